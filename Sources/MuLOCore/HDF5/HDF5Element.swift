import CHDF5
import CHDF5Shim

/// The element types MuLO stores in HDF5 datasets; reads check the stored type matches exactly.
public protocol HDF5Element: Sendable {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    static var dtypeName: String { get }
    init()
}

extension Float: HDF5Element {
    public static var memoryType: hid_t { mulo_h5t_native_float() }
    public static var fileType: hid_t { mulo_h5t_ieee_f32le() }
    public static var dtypeName: String { "float32" }
}

extension Double: HDF5Element {
    public static var memoryType: hid_t { mulo_h5t_native_double() }
    public static var fileType: hid_t { mulo_h5t_ieee_f64le() }
    public static var dtypeName: String { "float64" }
}

extension Int32: HDF5Element {
    public static var memoryType: hid_t { mulo_h5t_native_int32() }
    public static var fileType: hid_t { mulo_h5t_std_i32le() }
    public static var dtypeName: String { "int32" }
}

extension Int64: HDF5Element {
    public static var memoryType: hid_t { mulo_h5t_native_int64() }
    public static var fileType: hid_t { mulo_h5t_std_i64le() }
    public static var dtypeName: String { "int64" }
}

extension UInt8: HDF5Element {
    public static var memoryType: hid_t { mulo_h5t_native_uint8() }
    public static var fileType: hid_t { mulo_h5t_std_u8le() }
    public static var dtypeName: String { "uint8" }
}

/// A readable name for a stored HDF5 type, for error messages.
func describeType(_ type: hid_t) -> String {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT where H5Tequal(type, Float.fileType) <= 0 && H5Tequal(type, Double.fileType) <= 0:
        return "a non-IEEE float\(size * 8) layout (corrupt type?)"
    case H5T_FLOAT: return "float\(size * 8)"
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + "\(size * 8)"
    case H5T_STRING: return "string"
    case H5T_COMPOUND: return "compound"
    default: return "an unsupported type"
    }
}

/// Exactly T's standard file type, little- or big-endian: a float type with an edited exponent,
/// mantissa or bias (which HDF5 would silently convert into other values) is not T.
func typeMatches<T: HDF5Element>(_ type: hid_t, _: T.Type) -> Bool {
    if H5Tequal(type, T.fileType) > 0 { return true }
    let bigEndian = H5Tcopy(T.fileType)
    defer { H5Tclose(bigEndian) }
    return H5Tset_order(bigEndian, H5T_ORDER_BE) >= 0 && H5Tequal(type, bigEndian) > 0
}
