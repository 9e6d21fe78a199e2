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

extension GradientEstimator.Estimate {
    func encode(into w: inout ByteWriter) {
        w.floats(gradient)
        w.float(loss)
        w.float(a)
        w.float(b)
    }

    static func decode(_ r: inout ByteReader) -> Self {
        let g = r.floats()
        return Self(gradient: g, loss: r.float(), a: r.float(), b: r.float())
    }
}

extension Particle {
    func encode(into w: inout ByteWriter) {
        w.int(episodeStep)
        w.int(episodeLength)
        w.int(isDone ? 1 : 0)
        w.floats(xi)
        for c in [pos, neg] {
            c.lo.counters.forEach { w.int($0.value) }
            for t in c.params { w.floats(t.data) }
            for k in c.params.indices { c.lo.arrays(tensor: k).forEach { w.floats($0.values) } }
        }
    }

    /// Decodes into `self`, whose shapes (from the same task) are already right. The bytes come
    /// from another rank of the same job, so a mismatch is a programming error.
    mutating func decode(_ r: inout ByteReader) {
        episodeStep = r.int()
        episodeLength = r.int()
        isDone = r.int() != 0
        xi = r.floats()
        for k in 0..<2 {
            var c = k == 0 ? pos : neg
            try! c.lo.setCounters(c.lo.counters.map { _ in r.int() })
            for i in c.params.indices { c.params[i].data = r.floats() }
            for i in c.params.indices { try! c.lo.setArrays(tensor: i, c.lo.arrays(tensor: i).map { _ in r.floats() }) }
            if k == 0 { pos = c } else { neg = c }
        }
    }
}
