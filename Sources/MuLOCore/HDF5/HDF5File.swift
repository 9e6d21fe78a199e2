import CHDF5
import CHDF5Shim
import Foundation

/// Serial libhdf5 is not thread-safe; every call into it holds this lock.
let hdf5Lock = NSRecursiveLock()

@discardableResult
func withHDF5<T>(_ body: () throws -> T) rethrows -> T {
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    // Debian's libhdf5 is thread-safe, which makes error auto-printing a per-thread setting.
    mulo_h5_silence_errors()
    return try body()
}

/// An open HDF5 file. Files made with `create` are written to a temporary file in the same
/// directory and appear under their name only at `commit()`, so a crash never leaves a
/// half-written file behind and never damages the file being replaced.
public final class HDF5File {
    public let path: String
    let id: hid_t
    private let tempPath: String?
    private var isOpen = true

    private init(path: String, id: hid_t, tempPath: String?) {
        self.path = path
        self.id = id
        self.tempPath = tempPath
    }

    /// Starts writing a new file that will replace `path` atomically on `commit()`.
    public static func create(_ path: String) throws -> HDF5File {
        try withHDF5 {
            let url = URL(fileURLWithPath: path)
            let dir = url.deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: dir) else {
                throw HDF5Error(file: path, object: "", message: "directory \(dir) does not exist")
            }
            let temp = url.deletingLastPathComponent()
                .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            // The 1.10 format's checksummed superblock and object headers: corrupted metadata is
            // an error on open or read, not other values (`HDF5Datasets` checksums the data).
            let fapl = H5Pcreate(mulo_h5p_file_access())
            defer { H5Pclose(fapl) }
            guard fapl >= 0, H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 else {
                throw HDF5Error(file: path, object: "", message: "cannot set the file format version")
            }
            // A user block for the whole-file seal `commit` writes (HDF5Seal).
            let fcpl = H5Pcreate(mulo_h5p_file_create())
            defer { H5Pclose(fcpl) }
            // No modification times in object headers (here the root group's; `untimed` for every
            // other object): the same content is the same bytes, so a file can be compared with `cmp`.
            guard fcpl >= 0, H5Pset_userblock(fcpl, hsize_t(HDF5Seal.blockSize)) >= 0, H5Pset_obj_track_times(fcpl, false) >= 0 else {
                throw HDF5Error(file: path, object: "", message: "cannot reserve the user block")
            }
            let id = H5Fcreate(temp, mulo_h5f_acc_excl(), fcpl, fapl)
            guard id >= 0 else { throw HDF5Error.fromLibrary(file: path, object: "", "cannot create file") }
            return HDF5File(path: path, id: id, tempPath: temp)
        }
    }

    /// Run on a file without MuLO's seal (a dataset from another tool, a file from before seals)
    /// before libhdf5 parses it, to throw instead of letting a malformed file crash the process.
    /// The command line sets it to read the file in a child process first (`mulo check-hdf5-file`).
    nonisolated(unsafe) public static var unsealedFileCheck: ((String) throws -> Void)?

    /// Opens an existing file; a missing, truncated or non-HDF5 file is a clear error.
    public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        try withHDF5 {
            guard FileManager.default.fileExists(atPath: path) else {
                throw HDF5Error(file: path, object: "", message: "no such file")
            }
            let sealed = try HDF5Seal.verify(path)
            guard H5Fis_hdf5(path) > 0 else {
                throw HDF5Error(file: path, object: "", message: "not an HDF5 file (or truncated/corrupt)")
            }
            if !sealed { try unsealedFileCheck?(path) }
            let id = H5Fopen(path, writable ? mulo_h5f_acc_rdwr() : mulo_h5f_acc_rdonly(), 0)
            guard id >= 0 else {
                throw HDF5Error.fromLibrary(file: path, object: "", "cannot open file (truncated or corrupt?)")
            }
            return HDF5File(path: path, id: id, tempPath: nil)
        }
    }

    /// Flushes, closes, syncs to disk and renames the temporary file over `path`.
    public func commit() throws {
        try withHDF5 {
            guard let temp = tempPath, isOpen else { return try close() }
            isOpen = false
            guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0, H5Fclose(id) >= 0 else {
                unlink(temp)
                throw HDF5Error.fromLibrary(file: path, object: "", "cannot flush file")
            }
            do { try HDF5Seal.seal(temp) } catch {
                unlink(temp)
                throw error
            }
            try syncToDisk(temp)
            guard rename(temp, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temp)
                throw HDF5Error(file: path, object: "", message: "cannot rename temporary file: \(reason)")
            }
            try syncToDisk(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        }
    }

    /// Closes a file opened with `open`; for a created file, discards it (use `commit`).
    public func close() throws {
        try withHDF5 {
            guard isOpen else { return }
            isOpen = false
            let ok = H5Fclose(id) >= 0
            if let temp = tempPath { unlink(temp) }
            if !ok { throw HDF5Error.fromLibrary(file: path, object: "", "cannot close file") }
        }
    }

    deinit {
        try? close()
    }

    private func syncToDisk(_ p: String) throws {
        let fd = Foundation.open(p, O_RDONLY)
        guard fd >= 0 else { throw HDF5Error(file: path, object: "", message: "cannot open \(p) to sync") }
        defer { Foundation.close(fd) }
        _ = fsync(fd)
    }

    func fail(_ object: String, _ what: String) -> HDF5Error {
        HDF5Error.fromLibrary(file: path, object: object, what)
    }
}

// MARK: - Objects and groups

extension HDF5File {
    /// Whether an object exists at `objectPath` (every intermediate link is checked).
    public func exists(_ objectPath: String) -> Bool {
        withHDF5 {
            var prefix = ""
            for part in objectPath.split(separator: "/") {
                prefix += "/" + part
                if H5Lexists(id, prefix, 0) <= 0 { return false }
            }
            return true
        }
    }

    public func isGroup(_ objectPath: String) -> Bool {
        withHDF5 {
            guard exists(objectPath) else { return false }
            let obj = H5Oopen(id, objectPath, 0)
            guard obj >= 0 else { return false }
            defer { H5Oclose(obj) }
            return H5Iget_type(obj) == H5I_GROUP
        }
    }

    /// Creates a group and any missing parents.
    public func createGroup(_ groupPath: String) throws {
        try withHDF5 {
            // Each level made here rather than by HDF5's intermediate-group creation, which would
            // give the parents modification times (`untimed`).
            var prefix = ""
            for part in groupPath.split(separator: "/") {
                prefix += "/" + part
                if exists(prefix) { continue }
                let gcpl = try untimed(H5Pcreate(mulo_h5p_group_create()), prefix)
                defer { H5Pclose(gcpl) }
                let g = H5Gcreate2(id, prefix, 0, gcpl, 0)
                guard g >= 0 else { throw fail(prefix, "cannot create group") }
                H5Gclose(g)
            }
        }
    }

    /// Creates the groups above `objectPath` that are missing.
    func createParents(_ objectPath: String) throws {
        let parts = objectPath.split(separator: "/")
        if parts.count > 1 { try createGroup(parts.dropLast().joined(separator: "/")) }
    }

    /// Names of the links in a group, in name order.
    public func children(_ groupPath: String) throws -> [String] {
        try withHDF5 {
            guard isGroup(groupPath) else {
                throw HDF5Error(file: path, object: groupPath, message: "no such group")
            }
            let g = H5Gopen2(id, groupPath, 0)
            guard g >= 0 else { throw fail(groupPath, "cannot open group") }
            defer { H5Gclose(g) }
            var info = H5G_info_t()
            guard H5Gget_info(g, &info) >= 0 else { throw fail(groupPath, "cannot list group") }
            var names: [String] = []
            for i in 0..<info.nlinks {
                let n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, 0)
                guard n >= 0 else { throw fail(groupPath, "cannot read link name") }
                var buf = [CChar](repeating: 0, count: Int(n) + 1)
                H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, 0)
                names.append(String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return names
        }
    }

    /// `plist` (an object creation list) set to store no modification time, which would make two
    /// writes of the same content differ.
    func untimed(_ plist: hid_t, _ object: String) throws -> hid_t {
        guard plist >= 0 else { throw fail(object, "cannot create a property list") }
        guard H5Pset_obj_track_times(plist, false) >= 0 else {
            H5Pclose(plist)
            throw fail(object, "cannot turn off modification times")
        }
        return plist
    }

    func openObject(_ objectPath: String) throws -> hid_t {
        guard objectPath == "/" || exists(objectPath) else {
            throw HDF5Error(file: path, object: objectPath, message: "no such object")
        }
        let obj = H5Oopen(id, objectPath, 0)
        guard obj >= 0 else { throw fail(objectPath, "cannot open object") }
        return obj
    }
}
