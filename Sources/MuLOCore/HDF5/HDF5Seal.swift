import CZlib
import Foundation

/// A whole-file seal on the HDF5 files MuLO writes: a 512-byte user block (HDF5 skips it) holding
/// a magic, the file's length and the CRC-32 of everything after the block. `HDF5File.open`
/// checks it before libhdf5 parses a byte: libhdf5 1.10 can crash on some malformed files, so a
/// sealed file reaches it only exactly as MuLO wrote it, and any truncation, insertion or flipped
/// byte is one clear error. Files without the magic (MuLO's before the seal, datasets from other
/// tools) open as before, with HDF5's own checks.
enum HDF5Seal {
    static let blockSize = 512
    static let magic = Array("MuLO-HDF5-seal-1".utf8)

    /// Length and CRC-32 of the bytes after the user block, read in 8 MiB pieces.
    private static func digest(_ handle: FileHandle) throws -> (length: UInt64, crc: UInt32) {
        try handle.seek(toOffset: UInt64(blockSize))
        var (length, crc) = (UInt64(blockSize), CZlib.crc32(0, nil, 0))
        while let piece = try handle.read(upToCount: 8 << 20), !piece.isEmpty {
            crc = piece.withUnsafeBytes { CZlib.crc32(crc, $0.bindMemory(to: UInt8.self).baseAddress, uInt($0.count)) }
            length += UInt64(piece.count)
        }
        return (length, UInt32(crc))
    }

    private static func littleEndian<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian, Array.init) }

    /// Writes the seal into the user block of the finished file at `path`.
    static func seal(_ path: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw HDF5Error(file: path, object: "", message: "cannot reopen to seal") }
        defer { try? handle.close() }
        let (length, crc) = try digest(handle)
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(magic + littleEndian(length) + littleEndian(crc)))
    }

    /// Whether the file carries a seal, which must then match (a mismatch throws); false for files
    /// MuLO did not seal, which pass.
    static func verify(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = [UInt8](try handle.read(upToCount: magic.count + 12) ?? Data())
        guard head.count == magic.count + 12, Array(head[0..<magic.count]) == magic else { return false }
        func field<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            head[at..<(at + MemoryLayout<T>.size)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        let (length, crc) = try digest(handle)
        guard length == field(magic.count, UInt64.self), crc == field(magic.count + 8, UInt32.self) else {
            throw HDF5Error(file: path, object: "", message: "the file does not match its seal (truncated, extended or corrupted since MuLO wrote it)")
        }
        return true
    }
}
