import ArgumentParser
import Foundation
import MuLO

/// Options every compute command shares.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and elementwise kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Directory holding HDF5 datasets (<dataset>.h5); default $MULO_DATA_DIR or ./data.")
    var dataDir: String?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// --threads, or every core.
    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func apply() {
        let n = threadCount
        BLAS.setThreads(n)
        Parallel.workers = n
    }
}

/// Errors from the library become one clean line and exit code 1, never a stack dump.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
        throw ExitCode.failure
    }
}

/// Foundation's file errors print as a whole NSError dump; the path and the system's reason say it.
func describe(_ error: Error) -> String {
    guard let e = error as? CocoaError else { return "\(error)" }
    let reason: String
    if let posix = e.underlying as? POSIXError {
        reason = String(cString: strerror(posix.code.rawValue)).lowercased()
    } else {
        reason = e.localizedDescription
    }
    return e.filePath.map { "\($0): \(reason)" } ?? reason
}
