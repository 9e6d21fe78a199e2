import CZlib
import Foundation

/// CRC-32 of the exported safetensors files, recorded in the sidecar and checked on import:
/// safetensors has no checksum of its own, and a flipped byte in its data is otherwise a
/// different but well-formed θ. (Files that come without a sidecar entry are not checked.)
enum ExportChecksum {
    static func crc32(_ bytes: [UInt8]) -> Int {
        Int(bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) })
    }

    /// The sidecar's line for `key`.
    static func field(_ key: String, _ bytes: [UInt8]) -> String { "  \"\(key)\": \(crc32(bytes))" }

    /// Throws unless `bytes` match the sidecar's recorded CRC (when it records one).
    static func verify(_ bytes: [UInt8], key: String, in sidecar: StrictJSON, file: String) throws {
        guard let want = try sidecar.int(key) else { return }
        guard crc32(bytes) == want else { throw LOError("\(file) does not match the CRC-32 its sidecar records (\(key)): corrupt or edited") }
    }
}
