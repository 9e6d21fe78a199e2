import Foundation

/// One process per run directory. `acquire` takes an exclusive `flock` on DIR/.lock and keeps it
/// until the lock is released or the process ends — the kernel drops it when the holder dies,
/// so a killed run never blocks the next one. A second process gets an error naming the
/// holder's PID and command. With the lock held, temporary files that killed writers left in
/// DIR (and its direct subdirectories) are removed: no live writer can own them.
public final class RunLock: @unchecked Sendable {
    public let directory: String
    private var fd: Int32
    /// Whether `acquire` created the directory (so `abandon` can remove it again).
    private let created: Bool

    private init(directory: String, fd: Int32, created: Bool) {
        (self.directory, self.fd, self.created) = (directory, fd, created)
    }

    public static func acquire(_ directory: String, command: String) throws -> RunLock {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: directory, isDirectory: &isDir)
        if existed && !isDir.boolValue { throw DataError("\(directory) exists and is not a directory") }
        if !existed {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw DataError("cannot create run directory \(directory): \(error.localizedDescription)")
            }
        }
        let path = (directory as NSString).appendingPathComponent(".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .split(separator: "\n").joined(separator: ", ") ?? "unknown"
            close(fd)
            throw DataError("\(directory) is in use by another process (pid, command: \(holder)); wait for it to finish or stop it first")
        }
        let text = "\(getpid())\n\(command)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        let lock = RunLock(directory: directory, fd: fd, created: !existed)
        lock.removeStaleTemporaries()
        return lock
    }

    /// Temporary files are `.<name>.tmp-<pid>-<n>` (HDF5) and `<name>.tmp-<pid>` (AtomicFile).
    public static func isTemporary(_ name: String) -> Bool { name.contains(".tmp-") }

    private func removeStaleTemporaries() {
        let fm = FileManager.default
        let subdirectories = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).map { (directory as NSString).appendingPathComponent($0) }
            .filter { var d: ObjCBool = false; return fm.fileExists(atPath: $0, isDirectory: &d) && d.boolValue }
        for dir in [directory] + subdirectories {
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where Self.isTemporary(name) {
                try? fm.removeItem(atPath: (dir as NSString).appendingPathComponent(name))
            }
        }
    }

    /// Releases the lock (the lock file stays: removing it would race with a process opening it).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// Releases the lock after a failure before anything was written: a directory this lock
    /// created is removed again if it holds nothing but the lock file.
    public func abandon() {
        release()
        let fm = FileManager.default
        guard created, (try? fm.contentsOfDirectory(atPath: directory)) == [".lock"] else { return }
        try? fm.removeItem(atPath: directory)
    }

    deinit { release() }
}
