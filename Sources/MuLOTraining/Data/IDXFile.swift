import CZlib
import Foundation

/// The IDX format of (Fashion-)MNIST: magic 0x00 0x00 <type> <rank>, big-endian u32 dimensions,
/// then the raw values. Only unsigned bytes (type 0x08) occur in these datasets.
public struct IDXFile: Sendable {
    public let dims: [Int]
    public let bytes: [UInt8]

    /// Parses and validates an IDX payload, requiring the given rank.
    public init(data: [UInt8], expectRank: Int, source: String) throws {
        guard data.count >= 4 else { throw DataError("\(source): file too short for an IDX header") }
        guard data[0] == 0, data[1] == 0, data[2] == 0x08 else {
            throw DataError(String(format: "%@: bad IDX magic %02x%02x%02x%02x (expected 000008%02x)",
                                   source, data[0], data[1], data[2], data[3], expectRank))
        }
        let rank = Int(data[3])
        guard rank == expectRank else {
            throw DataError("\(source): IDX rank is \(rank), expected \(expectRank)")
        }
        let header = 4 + 4 * rank
        guard data.count >= header else { throw DataError("\(source): truncated IDX header") }
        var dims: [Int] = []
        for r in 0..<rank {
            let o = 4 + 4 * r
            dims.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
        }
        guard let expected = CheckedSize.product(dims), data.count - header == expected else {
            throw DataError("\(source): IDX header says \(dims) (\(CheckedSize.product(dims, limit: .max).map(String.init) ?? "more than Int.max") values) but the file holds \(data.count - header)")
        }
        self.dims = dims
        self.bytes = Array(data[header...])
    }

    /// Reads a gzip-compressed (or plain) IDX file.
    public static func load(_ path: String, expectRank: Int) throws -> IDXFile {
        try IDXFile(data: try readGzip(path), expectRank: expectRank, source: path)
    }
}

/// The decompressed contents of a gzip file (zlib also passes plain files through).
func readGzip(_ path: String) throws -> [UInt8] {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw DataError("\(path): no such file")
    }
    guard let gz = gzopen(path, "rb") else { throw DataError("\(path): cannot open") }
    defer { gzclose(gz) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { throw DataError("\(path): corrupt gzip stream") }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<Int(n)])
    }
    return out
}
