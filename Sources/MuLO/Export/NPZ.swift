import CZlib
import Foundation

/// NumPy's .npz: a zip archive (stored, uncompressed) of .npy files, one per array, readable
/// by `numpy.load`. Arrays are little-endian float32 in C order.
public enum NPZ {
    /// An .npy v1.0 file: magic, header dict padded with spaces to a 64-byte boundary, data.
    static func npy(_ t: Tensor) -> [UInt8] {
        let shape = t.shape.isEmpty ? "()" : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(\(t.shape.map(String.init).joined(separator: ", ")))"
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        withUnsafeBytes(of: UInt16(header.count).littleEndian) { out += $0 }
        out += header
        for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    public static func encode(_ arrays: [(name: String, tensor: Tensor)]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func u16(_ v: Int, _ buf: inout [UInt8]) { withUnsafeBytes(of: UInt16(v).littleEndian) { buf += $0 } }
        func u32(_ v: UInt32, _ buf: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { buf += $0 } }
        for (name, t) in arrays {
            let data = npy(t), fileName = Array("\(name).npy".utf8)
            let crc = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            let offset = UInt32(out.count)
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u16(0, &out); u16(0x21, &out)
            u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
            u16(fileName.count, &out); u16(0, &out)
            out += fileName + data
            u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0x21, &central); u32(crc, &central); u32(UInt32(data.count), &central)
            u32(UInt32(data.count), &central); u16(fileName.count, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central)
            central += fileName
        }
        let centralOffset = UInt32(out.count)
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(arrays.count, &out); u16(arrays.count, &out)
        u32(UInt32(central.count), &out); u32(centralOffset, &out); u16(0, &out)
        return out
    }
}
