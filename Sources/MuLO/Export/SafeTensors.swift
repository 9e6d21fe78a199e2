import Foundation

/// The safetensors format (METHOD §7.2): u64 little-endian header length N, N bytes of JSON
/// (space-padded) mapping names to {dtype, shape, data_offsets}, then the raw data. MuLO writes
/// float32 only and reads untrusted files strictly: every violation is an error, never a crash.
public enum SafeTensors {
    public typealias FormatError = MessageError<SafeTensorsConcern>

    /// A header larger than this is refused before it is read.
    public static let maxHeaderBytes = 100 << 20

    /// Tensors sorted by name with consecutive offsets; the header is padded so data starts 8-aligned.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> [UInt8] {
        let names = tensors.keys.sorted()
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            let end = offset + 4 * t.count
            entries.append("\(quote(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        for name in names {
            for v in tensors[name]!.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        }
        return out
    }

    /// Parses and validates a file's bytes: header bounds, JSON, dtype F32 only, shapes, offsets
    /// inside the data and non-overlapping, and (if given) exactly the expected names and shapes.
    public static func decode(_ bytes: [UInt8], expect: [String: [Int]]? = nil) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw FormatError("file too short for a safetensors header (\(bytes.count) bytes)") }
        let n64 = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n64 <= UInt64(maxHeaderBytes) else { throw FormatError("header length \(n64) exceeds the limit of \(maxHeaderBytes) bytes") }
        let n = Int(n64)
        guard n >= 2, 8 + n <= bytes.count else {
            throw FormatError("header length \(n) does not fit in the file (\(bytes.count) bytes)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])),
              let header = json as? [String: Any] else {
            throw FormatError("header is not a JSON object")
        }
        let dataStart = 8 + n, dataSize = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        var ranges: [(Int, Int, String)] = []
        // In name order, so the first error a file gives is always the same one.
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw FormatError("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw FormatError("__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let e = value as? [String: Any] else { throw FormatError("entry \(name) is not an object") }
            guard let dtype = e["dtype"] as? String else { throw FormatError("\(name): missing dtype") }
            guard dtype == "F32" else { throw FormatError("\(name): dtype \(dtype) is not supported (only F32)") }
            guard let shapeAny = e["shape"] as? [Any], let shape = ints(shapeAny), shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
                throw FormatError("\(name): shape is not a list of non-negative integers")
            }
            guard let offAny = e["data_offsets"] as? [Any], let off = ints(offAny), off.count == 2 else {
                throw FormatError("\(name): data_offsets is not [begin, end]")
            }
            let (begin, end) = (off[0], off[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw FormatError("\(name): data_offsets [\(begin), \(end)] lie outside the data (\(dataSize) bytes)")
            }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard count < Int.max / 4, end - begin == 4 * count else {
                throw FormatError("\(name): \(end - begin) bytes of data for shape \(shape) (\(count) float32)")
            }
            if let expect, expect[name] == nil { throw FormatError("unexpected tensor \(name)") }
            if let want = expect?[name], want != shape { throw FormatError("\(name): shape \(shape), expected \(want)") }
            ranges.append((begin, end, name))
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let o = dataStart + begin + 4 * i
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors[name] = Tensor(shape: shape, data: values)
        }
        // The tensors tile the data exactly — from byte 0, no gap, no overlap, nothing after — as
        // every writer lays them out; a header length off by one or an edited offset is caught here.
        ranges.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var next = 0
        for (begin, end, name) in ranges {
            guard begin == next else {
                throw FormatError("\(name) starts at data byte \(begin), expected \(next) (tensors must be contiguous, without gaps or overlaps)")
            }
            next = end
        }
        guard next == dataSize else { throw FormatError("the tensors cover \(next) of the \(dataSize) data bytes") }
        if let expect, let missing = expect.keys.sorted().first(where: { tensors[$0] == nil }) {
            throw FormatError("missing tensor \(missing)")
        }
        return (tensors, metadata)
    }

    private static func ints(_ xs: [Any]) -> [Int]? {
        var out: [Int] = []
        for x in xs {
            // JSONSerialization yields NSNumber; booleans have objCType "c". Reject them, fractions and non-numbers.
            guard let num = x as? NSNumber, String(cString: num.objCType) != "c" else { return nil }
            let d = num.doubleValue
            guard d == d.rounded(), abs(d) < 1e15 else { return nil }
            out.append(Int(d))
        }
        return out
    }

    static func quote(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: s, options: .fragmentsAllowed), as: UTF8.self)
    }
}
