/// Flat little-endian encoding of the values ranks exchange: exact bytes, no arithmetic.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
    mutating func float(_ v: Float) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    mutating func floats(_ v: [Float]) {
        int(v.count)
        v.withUnsafeBytes { bytes += $0 }  // x86-64 and arm64 are little-endian
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func int() -> Int {
        defer { offset += 8 }
        return (0..<8).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }

    mutating func float() -> Float {
        defer { offset += 4 }
        return Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) })
    }

    mutating func floats() -> [Float] {
        let n = int()
        defer { offset += 4 * n }
        return bytes[offset..<(offset + 4 * n)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
