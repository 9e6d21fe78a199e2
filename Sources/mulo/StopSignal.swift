import ArgumentParser
import Dispatch
import Glibc
import Foundation

/// Turns SIGINT/SIGTERM into a flag the training loops poll between steps, so they can save where
/// they are before exiting. A second signal exits at once (the last saved state stays intact).
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []
    /// What stopping does, said when the first signal arrives.
    private let stopping: String

    init(stopping: String) {
        self.stopping = stopping
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(sig) }
            source.resume()
            sources.append(source)
        }
    }

    private func receive(_ sig: Int32) {
        lock.lock()
        let again = received != nil
        received = sig
        lock.unlock()
        if again {
            FileHandle.standardError.write(Data("\nsecond signal: exiting without saving again\n".utf8))
            exit(128 + sig)
        }
        FileHandle.standardError.write(Data("\n\(stopping) (signal again to quit now)\n".utf8))
    }

    /// The exit status of a process stopped by it (the shell's 128 + signal).
    var exitCode: ExitCode { ExitCode(128 + (signal ?? SIGTERM)) }

    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
