import Dispatch
import Glibc
import Foundation

/// Turns SIGINT/SIGTERM into a flag the training loop polls between outer steps, so it can write
/// a checkpoint before exiting. A second signal exits at once (the last checkpoint stays intact).
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    init() {
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
            FileHandle.standardError.write(Data("\nsecond signal: exiting without a new checkpoint\n".utf8))
            exit(128 + sig)
        }
        FileHandle.standardError.write(Data("\nstopping after this outer step and writing a checkpoint (signal again to quit now)\n".utf8))
    }

    var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
