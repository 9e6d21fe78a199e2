import Dispatch
import Foundation

/// Runs independent jobs on `threads` workers, each with single-threaded BLAS and kernels, in
/// the given order of preference; `job(i)` must only touch its own outputs. Errors stop the
/// remaining jobs and the first one is rethrown.
public func runInParallel(_ count: Int, threads: Int, _ job: @escaping @Sendable (Int) throws -> Void) throws {
    try withSingleThreadedKernels { try runJobs(count, threads: threads, job) }
}

/// Runs `body` with BLAS and the elementwise kernels on one thread each (restored afterwards):
/// parallelism then comes from running independent jobs side by side.
public func withSingleThreadedKernels<T>(_ body: () throws -> T) rethrows -> T {
    let (savedBLAS, savedWorkers) = (BLAS.threads, Parallel.workers)
    BLAS.setThreads(1)
    Parallel.workers = 1
    defer {
        BLAS.setThreads(savedBLAS)
        Parallel.workers = savedWorkers
    }
    return try body()
}

/// Dynamic scheduling of `count` jobs over `threads` workers; which worker runs a job never
/// changes its result. The first error stops the remaining jobs and is rethrown.
public func runJobs(_ count: Int, threads: Int, _ job: @escaping @Sendable (Int) throws -> Void) throws {
    let next = Counter(), failure = FirstError()
    DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
        while let i = next.take(below: count), !failure.isSet {
            do { try job(i) } catch { failure.set(error) }
        }
    }
    if let e = failure.error { throw e }
}

/// CPU seconds the calling thread has used so far. A single-threaded job's cost whatever else
/// shared the cores while it ran (its wall time also counts the time it waited for one).
public func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Whether BLAS and the elementwise kernels run on the calling thread alone (inside
/// `runInParallel`, or with --threads 1), so that its CPU time is all the compute it does.
public var kernelsAreSingleThreaded: Bool { BLAS.threads == 1 && Parallel.workers == 1 }
