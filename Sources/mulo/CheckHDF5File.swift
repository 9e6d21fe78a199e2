import ArgumentParser
import CHDF5Shim
import Foundation
import MuLO

/// Reads every object of an HDF5 file MuLO did not seal, in a process of its own: libhdf5 1.10
/// can crash (not fail) on some malformed files, and the command that needs the file must lose
/// nothing. `install()` makes every HDF5 open of an unsealed file run this first.
struct CheckHDF5File: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-hdf5-file", abstract: "Read every object of an HDF5 file (used by mulo itself).", shouldDisplay: false)

    @Argument(help: "HDF5 file.") var path: String

    /// Datasets above this many bytes are left to the reading command (their metadata is still read).
    static let maxBytes = 256 << 20

    func run() throws {
        mulo_h5_silence_errors()
        guard mulo_h5_probe(path, Self.maxBytes) == 0 else { throw ExitCode.failure }
    }

    static func install() {
        // Under mpirun a child process per file is left out: ranks read MuLO's own (sealed) files.
        guard ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] == nil else { return }
        HDF5File.unsealedFileCheck = { path in
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            child.arguments = ["check-hdf5-file", path]
            (child.standardOutput, child.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
            try child.run()
            let deadline = Date().addingTimeInterval(300)
            while child.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            if child.isRunning {
                child.terminate()
                throw DataError("\(path): reading this HDF5 file did not finish in 5 minutes (libhdf5 loops on it): it is malformed")
            }
            // A failure that libhdf5 reports is left to the reader, whose message names the object.
            if child.terminationReason == .uncaughtSignal {
                throw DataError("\(path): libhdf5 crashes reading this file (signal \(child.terminationStatus)): it is malformed; nothing was changed")
            }
        }
    }
}
