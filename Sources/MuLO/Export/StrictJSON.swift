import Foundation

/// A JSON object read strictly: a key holding another type than asked — a string where a number
/// belongs, `true` or 32.5 where an integer belongs, a number where a string belongs — is an
/// error naming the file and the key, never a silently ignored value or a default.
struct StrictJSON {
    let values: [String: Any]
    let source: String

    init(_ data: Data, source: String) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LOError("\(source) is not a JSON object")
        }
        (values, self.source) = (object, source)
    }

    private func bad(_ key: String, _ what: String) -> LOError { LOError("\(source): \(key) must be \(what)") }

    /// JSON numbers come as NSNumber; booleans are NSNumbers too, of type "c".
    private static func number(_ x: Any) -> NSNumber? {
        guard let n = x as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return n
    }

    func int(_ key: String) throws -> Int? {
        guard let x = values[key] else { return nil }
        guard let d = Self.number(x)?.doubleValue, d == d.rounded(), abs(d) < 9.0e15 else { throw bad(key, "an integer") }
        return Int(d)
    }

    func float(_ key: String) throws -> Float? {
        guard let x = values[key] else { return nil }
        guard let n = Self.number(x) else { throw bad(key, "a number") }
        return n.floatValue
    }

    func floats(_ key: String, count: Int) throws -> [Float]? {
        guard let x = values[key] else { return nil }
        guard let a = x as? [Any], a.count == count, let v = a.map(Self.number) as? [NSNumber] else {
            throw bad(key, "a list of \(count) numbers")
        }
        return v.map(\.floatValue)
    }

    func string(_ key: String) throws -> String? {
        guard let x = values[key] else { return nil }
        guard let s = x as? String else { throw bad(key, "a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let x = values[key] else { return nil }
        guard let n = x as? NSNumber, String(cString: n.objCType) == "c" else { throw bad(key, "true or false") }
        return n.boolValue
    }

    /// A key that must be present.
    func required<T>(_ key: String, _ read: (String) throws -> T?) throws -> T {
        guard let v = try read(key) else { throw LOError("\(source): missing \(key)") }
        return v
    }
}
