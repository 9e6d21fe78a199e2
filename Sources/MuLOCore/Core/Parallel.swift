import Dispatch
import Foundation

/// Wraps a raw pointer so it can cross into `concurrentPerform` closures: the callers
/// guarantee that chunks touch disjoint ranges.
public struct SendablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

public enum Parallel {
    /// Worker count for elementwise kernels; results never depend on it.
    nonisolated(unsafe) public static var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body(range)` over `0..<count` split into contiguous chunks. Small inputs run inline
    /// because dispatch costs more than it saves below `minChunk` elements per worker.
    public static func forEachChunk(_ count: Int, minChunk: Int = 1 << 15,
                                    _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, max(1, count / minChunk))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks
                let hi = count * (c + 1) / chunks
                box.value(lo..<hi)
            }
        }
    }
}

/// Carries a value the caller guarantees is used safely across threads (disjoint writes).
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

extension Parallel {
    /// Runs `body(block)` for every block in 0..<blocks, spread over the workers. Callers fix
    /// `blocks` from the data alone, so per-block partial results never depend on the thread count.
    /// Workers take blocks as they come free: a worker that wakes late takes fewer, instead of
    /// the others waiting for its fixed share.
    public static func forEachBlock(_ blocks: Int, lanes: Int = workers, _ body: (Int) -> Void) {
        let lanes = min(lanes, blocks)
        if lanes <= 1 {
            for b in 0..<blocks { body(b) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body), next = Counter()
            DispatchQueue.concurrentPerform(iterations: lanes) { _ in
                while let b = next.take(below: blocks) { box.value(b) }
            }
        }
    }
}

/// A shared work index for dynamic scheduling; which worker takes a unit never changes its result.
public final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    public init() {}
    public func take(below n: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < n else { return nil }
        value += 1
        return value - 1
    }
}

public final class FirstError: @unchecked Sendable {
    private var stored: Error?
    private let lock = NSLock()
    public init() {}
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return stored != nil }
    public var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    public func set(_ e: Error) {
        lock.lock()
        if stored == nil { stored = e }
        lock.unlock()
    }
}
