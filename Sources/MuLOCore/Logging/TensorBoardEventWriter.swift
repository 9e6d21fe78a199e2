import Foundation

/// TensorBoard's event-file format, written directly: a TFRecord stream (length, masked CRC-32C of
/// the length, payload, masked CRC-32C of the payload) of `tensorflow.Event` protocol buffers. Only
/// the fields TensorBoard needs for scalars are encoded, by hand in the protobuf wire format:
///
///     Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
///               Summary summary = 5; SessionLog session_log = 7; }
///     Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
///     SessionLog { SessionStatus status = 1; }   // START = 1
///
/// Each event is written and flushed at once, so TensorBoard shows a run while it goes.
public final class TensorBoardEventWriter {
    private let handle: FileHandle
    public let path: String

    /// Creates `events.out.tfevents.<time>.<host>.<pid>` in `directory` (created if needed) and
    /// writes the file-version event every event file starts with. TensorBoard reads a
    /// directory's files in name order and a session START only purges what was read before it,
    /// so `<time>` is kept above every existing file's even when a resume starts within the same second.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let prefix = "events.out.tfevents."
        let existing = try FileManager.default.contentsOfDirectory(atPath: directory).compactMap { name -> Int? in
            name.hasPrefix(prefix) ? Int(name.dropFirst(prefix.count).prefix { $0 != "." }) : nil
        }
        let stamp = max(Int(now), (existing.max() ?? 0) + 1)
        path = (directory as NSString).appendingPathComponent("\(prefix)\(stamp).\(ProcessInfo.processInfo.hostName).\(getpid())")
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw DataError("cannot create the TensorBoard event file \(path)")
        }
        handle = h
        var e = Protobuf()
        e.double(1, now)
        e.bytes(3, Array("brain.Event:2".utf8))
        try writeRecord(e.data)
    }

    deinit { try? handle.close() }

    /// One event holding every scalar of `step`.
    public func scalars(step: Int, wallTime: Double, _ values: [(tag: String, value: Float)]) throws {
        var summary = Protobuf()
        for (tag, value) in values {
            var v = Protobuf()
            v.bytes(1, Array(tag.utf8))
            v.float(2, value)
            summary.bytes(1, v.data)
        }
        var e = Protobuf()
        e.double(1, wallTime)
        e.varint(2, UInt64(bitPattern: Int64(step)))
        e.bytes(5, summary.data)
        try writeRecord(e.data)
    }

    /// A session START at `step`: TensorBoard drops the events of earlier files at or after this
    /// step, so a resumed run shows as if it had never been interrupted.
    public func sessionStart(step: Int, wallTime: Double) throws {
        var log = Protobuf()
        log.varint(1, 1)
        var e = Protobuf()
        e.double(1, wallTime)
        e.varint(2, UInt64(bitPattern: Int64(step)))
        e.bytes(7, log.data)
        try writeRecord(e.data)
    }

    private func writeRecord(_ payload: [UInt8]) throws {
        var record = [UInt8]()
        let length = Protobuf.littleEndian(UInt64(payload.count))
        record += length
        record += Protobuf.littleEndian(CRC32C.masked(length))
        record += payload
        record += Protobuf.littleEndian(CRC32C.masked(payload))
        try handle.write(contentsOf: record)
    }
}

/// The protobuf wire format for the few field kinds events use.
struct Protobuf {
    var data: [UInt8] = []

    mutating func key(_ field: Int, _ wireType: UInt64) { appendVarint(UInt64(field) << 3 | wireType) }
    mutating func varint(_ field: Int, _ v: UInt64) { key(field, 0); appendVarint(v) }
    mutating func double(_ field: Int, _ v: Double) { key(field, 1); data += Self.littleEndian(v.bitPattern) }
    mutating func float(_ field: Int, _ v: Float) { key(field, 5); data += Self.littleEndian(v.bitPattern) }
    mutating func bytes(_ field: Int, _ v: [UInt8]) { key(field, 2); appendVarint(UInt64(v.count)); data += v }

    private mutating func appendVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            data.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        data.append(UInt8(v))
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
}
