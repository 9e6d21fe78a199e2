/// The part every family's task names share, `{sp|mu model}-w{W}-d{D}[-option…]_{data}`, parsed
/// once here: the parametrization from the model word, width and depth, the remaining model
/// options and the data part, with errors that name the task and list the valid forms.
public struct TaskNameParts {
    public let text: String
    public let parametrization: Parametrization
    public let width: Int
    public let depth: Int
    public let options: [Substring]
    public let data: Substring

    /// `form` names what the model part may hold, for the error message.
    public init(_ text: String, sp: String, mu: String, form: String) throws {
        self.text = text
        func bad(_ why: String) -> TaskError { TaskError("task '\(text)': \(why); valid task names: \(TaskRegistry.validForms)") }
        guard let us = text.firstIndex(of: "_") else { throw bad("missing '_' before the data part") }
        let parts = text[..<us].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { throw bad("model part must be \(form)") }
        switch parts[0] {
        case Substring(sp): parametrization = .standard
        case Substring(mu): parametrization = .mup
        default: throw bad("unknown model '\(parts[0])'")
        }
        width = try Self.number(parts[1], "w", "width", bad)
        depth = try Self.number(parts[2], "d", "depth", bad)
        options = Array(parts.dropFirst(3))
        data = text[text.index(after: us)...]
    }

    public func error(_ why: String) -> TaskError {
        TaskError("task '\(text)': \(why); valid task names: \(TaskRegistry.validForms)")
    }

    /// `letter{n}` with 1 ≤ n ≤ 2^20.
    public func number(_ part: Substring, _ letter: Character, _ what: String) throws -> Int {
        try Self.number(part, letter, what, error)
    }

    static func number(_ part: Substring, _ letter: Character, _ what: String, _ bad: (String) -> TaskError) throws -> Int {
        guard part.first == letter, let v = Int(part.dropFirst()), v >= 1, v <= 1 << 20 else {
            throw bad("\(what) must be \(letter){n} with 1 ≤ n ≤ 2^20")
        }
        return v
    }
}
