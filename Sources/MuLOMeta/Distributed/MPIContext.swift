import CMPIShim
import Foundation

/// Open MPI ranks for meta-training. Only initialised when the process was started by mpirun
/// (Open MPI sets OMPI_COMM_WORLD_SIZE); otherwise MuLO runs as one process without MPI.
public final class MPIContext: @unchecked Sendable {
    public let rank: Int
    public let size: Int

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// The context when running under mpirun, else nil.
    public static func fromEnvironment() throws -> MPIContext? {
        guard ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil else { return nil }
        guard mulo_mpi_init() == 0 else { throw Failure(description: "MPI_Init failed") }
        return MPIContext(rank: Int(mulo_mpi_rank()), size: Int(mulo_mpi_size()))
    }

    public var isRoot: Bool { rank == 0 }

    public func finalize() { _ = mulo_mpi_finalize() }

    /// Ends every rank of the job (after this rank has printed why).
    public func abort(_ code: Int32 = 1) -> Never {
        mulo_mpi_abort(code)
        exit(code)
    }

    func check(_ code: Int32, _ what: String) throws {
        if code != 0 { throw Failure(description: "rank \(rank): MPI \(what) failed (error \(code))") }
    }

    /// Each rank's bytes, in rank order (lengths may differ).
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var length = UInt64(bytes.count)
        var lengths = [UInt64](repeating: 0, count: size)
        try check(mulo_mpi_allgather_bytes(&length, 8, &lengths), "allgather")
        let slot = Int(lengths.max() ?? 0)
        var padded = bytes + [UInt8](repeating: 0, count: slot - bytes.count)
        var all = [UInt8](repeating: 0, count: slot * size)
        if slot > 0 { try check(mulo_mpi_allgather_bytes(&padded, Int32(slot), &all), "allgather") }
        return (0..<size).map { r in Array(all[(r * slot)..<(r * slot + Int(lengths[r]))]) }
    }

    /// Rank 0's value on every rank.
    public func broadcast(_ flag: Bool) throws -> Bool {
        var b: UInt8 = flag ? 1 : 0
        try check(mulo_mpi_bcast_bytes(&b, 1, 0), "broadcast")
        return b != 0
    }

    /// Every rank's bytes on rank 0 (in rank order; empty elsewhere).
    public func gatherToRoot(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let tag: Int32 = 7
        if !isRoot {
            var n = UInt64(bytes.count)
            try check(mulo_mpi_send_bytes(&n, 8, 0, tag), "send")
            if !bytes.isEmpty { try check(bytes.withUnsafeBytes { mulo_mpi_send_bytes($0.baseAddress, bytes.count, 0, tag) }, "send") }
            return []
        }
        var out = [bytes]
        for r in 1..<size {
            var n: UInt64 = 0
            try check(mulo_mpi_recv_bytes(&n, 8, Int32(r), tag), "receive")
            var buf = [UInt8](repeating: 0, count: Int(n))
            if n > 0 { try check(buf.withUnsafeMutableBytes { mulo_mpi_recv_bytes($0.baseAddress, Int(n), Int32(r), tag) }, "receive") }
            out.append(buf)
        }
        return out
    }
}
