import CZlib
import Foundation

/// Reads the character vectors of an R lazy-load database (`data/Rdata.rdb`, as R packages such
/// as Debian's r-cran-janeaustenr ship them) without R: each record is a 4-byte big-endian
/// uncompressed length and a zlib stream of R's XDR serialisation (format 2 or 3) of one
/// object. Only character vectors (STRSXP of CHARSXP) are read; NA strings are skipped.
enum RDataStrings {
    /// Upper bounds that keep a corrupt or hostile file from claiming absurd sizes.
    static let maxRecordBytes = 256 << 20
    static let maxFileBytes = 1 << 30

    /// Every record's strings, in file order.
    static func records(_ path: String) throws -> [[String]] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int else { throw DataError("\(path): cannot read the file") }
        guard size <= maxFileBytes else { throw DataError("\(path): \(size) bytes is more than an R data file of text should hold") }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot read the file") }
        let bytes = [UInt8](data)
        var records: [[String]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset > 4 else { throw DataError("\(path): truncated record at byte \(offset)") }
            let declared = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard declared > 0, declared <= maxRecordBytes else {
                throw DataError("\(path): record at byte \(offset) declares \(declared) bytes; not an R data file of text")
            }
            var out = [UInt8](repeating: 0, count: declared)
            var outLength = uLongf(declared)
            var consumed = uLong(bytes.count - offset - 4)
            let status = bytes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    uncompress2(dst.baseAddress, &outLength, src.baseAddress! + offset + 4, &consumed)
                }
            }
            guard status == Z_OK, Int(outLength) == declared else {
                throw DataError("\(path): record at byte \(offset) is not a zlib stream of \(declared) bytes (zlib status \(status))")
            }
            records.append(try strings(out, source: "\(path) record at byte \(offset)"))
            offset += 4 + Int(consumed)
        }
        return records
    }

    /// The strings of one serialised character vector.
    static func strings(_ b: [UInt8], source: String) throws -> [String] {
        var i = 0
        func fail(_ what: String) -> DataError { DataError("\(source): \(what)") }
        func int() throws -> Int32 {
            guard i + 4 <= b.count else { throw fail("ends inside a header") }
            defer { i += 4 }
            return Int32(bitPattern: UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]))
        }
        guard b.count > 2, b[0] == UInt8(ascii: "X"), b[1] == UInt8(ascii: "\n") else {
            throw fail("not R's XDR serialisation (no 'X\\n' header)")
        }
        i = 2
        let version = try int()
        guard version == 2 || version == 3 else { throw fail("serialisation format \(version); only 2 and 3 are known") }
        _ = try int()  // the writing R's version
        _ = try int()  // the minimal reader version
        if version == 3 {
            let n = Int(try int())
            guard n >= 0, i + n <= b.count else { throw fail("bad native-encoding length") }
            i += n
        }
        let flags = try int()
        guard flags & 0xFF == 16 else { throw fail("holds R type \(flags & 0xFF), not a character vector (16)") }
        let count = Int(try int())
        guard count >= 0, count <= b.count / 8 else { throw fail("claims \(count) strings in \(b.count) bytes") }
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let f = try int()
            guard f & 0xFF == 9 else { throw fail("string of R type \(f & 0xFF), not CHARSXP (9)") }
            let n = Int(try int())
            if n == -1 { continue }
            guard n >= 0, i + n <= b.count else { throw fail("string length \(n) runs past the record") }
            guard let s = String(validating: b[i..<(i + n)], as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
            out.append(s)
            i += n
        }
        return out
    }
}
