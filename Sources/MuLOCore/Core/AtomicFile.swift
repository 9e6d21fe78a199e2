import Foundation

/// Small files (plots, tables, JSON, pointers) written to a temporary file beside the target
/// and renamed over it, so readers never see a half-written file.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temp = path + ".tmp-\(getpid())"
        try data.write(to: URL(fileURLWithPath: temp))
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw DataError("cannot write \(path): \(reason)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
