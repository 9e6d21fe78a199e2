import CHDF5Shim

/// Every HDF5 failure, naming the file and the object inside it.
public struct HDF5Error: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let object: String
    public let message: String

    public init(file: String, object: String, message: String) {
        self.file = file
        self.object = object
        self.message = message
    }

    public var description: String {
        object.isEmpty ? "\(file): \(message)" : "\(file): \(object): \(message)"
    }

    /// The error for a failed HDF5 call, with the library's innermost message appended.
    static func fromLibrary(file: String, object: String, _ what: String) -> HDF5Error {
        var buf = [CChar](repeating: 0, count: 512)
        mulo_h5_last_error(&buf, buf.count)
        let detail = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return HDF5Error(file: file, object: object,
                         message: detail.isEmpty ? what : "\(what) (\(detail))")
    }
}
