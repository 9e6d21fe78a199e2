import CHDF5
import CHDF5Shim
import Foundation

/// Attributes on groups and datasets: numbers (stored as int64/float64 scalars or 1-D arrays)
/// and variable-length UTF-8 strings, which h5py returns as `str`.
extension HDF5File {
    public func setAttribute(_ name: String, _ value: String, on objectPath: String = "/") throws {
        try setAttribute(name, [value], on: objectPath, scalar: true)
    }

    public func setAttribute(_ name: String, _ values: [String], on objectPath: String = "/",
                             scalar: Bool = false) throws {
        try withHDF5 {
            let type = try stringType(objectPath)
            defer { H5Tclose(type) }
            try writeAttribute(name, on: objectPath, type: type, count: values.count, scalar: scalar) { attr in
                // HDF5 reads an array of C string pointers for variable-length strings.
                let cStrings = values.map { strdup($0) }
                defer { cStrings.forEach { free($0) } }
                return cStrings.withUnsafeBufferPointer { H5Awrite(attr, type, $0.baseAddress) }
            }
        }
    }

    public func setAttribute(_ name: String, _ value: Double, on objectPath: String = "/") throws {
        try setNumericAttribute(name, [value], on: objectPath, scalar: true)
    }

    public func setAttribute(_ name: String, _ value: Int, on objectPath: String = "/") throws {
        try setNumericAttribute(name, [Int64(value)], on: objectPath, scalar: true)
    }

    public func setAttribute(_ name: String, _ values: [Double], on objectPath: String = "/") throws {
        try setNumericAttribute(name, values, on: objectPath, scalar: false)
    }

    public func setAttribute(_ name: String, _ values: [Int], on objectPath: String = "/") throws {
        try setNumericAttribute(name, values.map(Int64.init), on: objectPath, scalar: false)
    }

    public func hasAttribute(_ name: String, on objectPath: String = "/") -> Bool {
        withHDF5 {
            guard let obj = try? openObject(objectPath) else { return false }
            defer { H5Oclose(obj) }
            return H5Aexists(obj, name) > 0
        }
    }

    public func attributeStrings(_ name: String, on objectPath: String = "/") throws -> [String] {
        try withHDF5 {
            try readAttribute(name, on: objectPath) { attr, type, count in
                guard H5Tget_class(type) == H5T_STRING else {
                    throw HDF5Error(file: path, object: "\(objectPath)@\(name)",
                                    message: "attribute is \(describeType(type)), expected a string")
                }
                if H5Tis_variable_str(type) > 0 {
                    let memType = try stringType(objectPath)
                    defer { H5Tclose(memType) }
                    var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                    guard H5Aread(attr, memType, &ptrs) >= 0 else { throw fail(objectPath, "cannot read attribute \(name)") }
                    defer { ptrs.forEach { free($0) } }
                    return ptrs.map { $0.map { String(cString: $0) } ?? "" }
                }
                let size = H5Tget_size(type)
                var buf = [UInt8](repeating: 0, count: size * count)
                guard H5Aread(attr, type, &buf) >= 0 else { throw fail(objectPath, "cannot read attribute \(name)") }
                return (0..<count).map { i in
                    String(decoding: buf[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }, as: UTF8.self)
                }
            }
        }
    }

    public func attributeString(_ name: String, on objectPath: String = "/") throws -> String {
        let values = try attributeStrings(name, on: objectPath)
        guard values.count == 1 else {
            throw HDF5Error(file: path, object: "\(objectPath)@\(name)", message: "expected one string, found \(values.count)")
        }
        return values[0]
    }

    /// Numeric attribute values converted to float64 by HDF5 (any integer or float type).
    public func attributeDoubles(_ name: String, on objectPath: String = "/") throws -> [Double] {
        try readNumericAttribute(name, on: objectPath, Double.self)
    }

    public func attributeInts(_ name: String, on objectPath: String = "/") throws -> [Int] {
        try readNumericAttribute(name, on: objectPath, Int64.self).map { Int($0) }
    }

    public func attributeDouble(_ name: String, on objectPath: String = "/") throws -> Double {
        try single(attributeDoubles(name, on: objectPath), name, objectPath)
    }

    public func attributeInt(_ name: String, on objectPath: String = "/") throws -> Int {
        try single(attributeInts(name, on: objectPath), name, objectPath)
    }

    // MARK: Helpers

    private func single<T>(_ values: [T], _ name: String, _ objectPath: String) throws -> T {
        guard values.count == 1 else {
            throw HDF5Error(file: path, object: "\(objectPath)@\(name)", message: "expected one value, found \(values.count)")
        }
        return values[0]
    }

    private func stringType(_ objectPath: String) throws -> hid_t {
        let type = H5Tcopy(mulo_h5t_c_s1())
        guard type >= 0, H5Tset_size(type, mulo_h5t_variable()) >= 0,
              H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else { throw fail(objectPath, "cannot make string type") }
        return type
    }

    private func setNumericAttribute<T: HDF5Element>(_ name: String, _ values: [T], on objectPath: String,
                                                     scalar: Bool) throws {
        try withHDF5 {
            try writeAttribute(name, on: objectPath, type: T.fileType, count: values.count, scalar: scalar) { attr in
                values.withUnsafeBytes { H5Awrite(attr, T.memoryType, $0.baseAddress) }
            }
        }
    }

    private func writeAttribute(_ name: String, on objectPath: String, type: hid_t, count: Int, scalar: Bool,
                                _ write: (hid_t) -> herr_t) throws {
        if objectPath != "/" && !exists(objectPath) { try createGroup(objectPath) }
        let obj = try openObject(objectPath)
        defer { H5Oclose(obj) }
        if H5Aexists(obj, name) > 0 { H5Adelete(obj, name) }
        let space = try dataspace(scalar ? [] : [count], maxShape: nil, objectPath)
        defer { H5Sclose(space) }
        let attr = H5Acreate2(obj, name, type, space, 0, 0)
        guard attr >= 0 else { throw fail(objectPath, "cannot create attribute \(name)") }
        defer { H5Aclose(attr) }
        guard write(attr) >= 0 else { throw fail(objectPath, "cannot write attribute \(name)") }
    }

    private func readAttribute<R>(_ name: String, on objectPath: String,
                                  _ body: (hid_t, hid_t, Int) throws -> R) throws -> R {
        let obj = try openObject(objectPath)
        defer { H5Oclose(obj) }
        guard H5Aexists(obj, name) > 0 else {
            throw HDF5Error(file: path, object: objectPath, message: "no attribute \(name)")
        }
        let attr = H5Aopen(obj, name, 0)
        guard attr >= 0 else { throw fail(objectPath, "cannot open attribute \(name)") }
        defer { H5Aclose(attr) }
        let type = H5Aget_type(attr)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attr)
        defer { H5Sclose(space) }
        let count = try elementCount(try extent(space, objectPath), "\(objectPath)@\(name)")
        return try body(attr, type, count)
    }

    private func readNumericAttribute<T: HDF5Element>(_ name: String, on objectPath: String,
                                                      _: T.Type) throws -> [T] {
        try withHDF5 {
            try readAttribute(name, on: objectPath) { attr, type, count in
                let cls = H5Tget_class(type)
                guard cls == H5T_INTEGER || cls == H5T_FLOAT else {
                    throw HDF5Error(file: path, object: "\(objectPath)@\(name)",
                                    message: "attribute is \(describeType(type)), expected a number")
                }
                var values = [T](repeating: T(), count: count)
                guard values.withUnsafeMutableBytes({ H5Aread(attr, T.memoryType, $0.baseAddress) }) >= 0 else {
                    throw fail(objectPath, "cannot read attribute \(name)")
                }
                return values
            }
        }
    }
}
