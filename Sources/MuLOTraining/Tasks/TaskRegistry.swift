import Foundation

/// A parsed task name of some model family: what templates substitute (width, depth,
/// parametrization) and how to build the task. A name is parsed once, by `TaskRegistry.parse`;
/// `description` gives it back.
public protocol TaskSpec: Sendable, CustomStringConvertible {
    var parametrization: Parametrization { get }
    var width: Int { get }
    var depth: Int { get }
    /// The same task at another width, depth or parametrization (templates, width studies).
    func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec
    /// Builds the task, loading its data (from `dataDir` where the family reads files); callers use `makeTask`.
    func buildTask(dataDir: String?) throws -> any Task
}

extension TaskSpec {
    /// Builds the task and refuses it when training it cannot fit in memory.
    public func makeTask(dataDir: String?) throws -> any Task {
        let task = try buildTask(dataDir: dataDir)
        try task.checkFitsInMemory()
        return task
    }
}

/// The model families MuLO knows, keyed by the task name's prefix (the text before the first
/// '-'). A new family is one folder under Tasks/ and one entry in `families`.
public enum TaskRegistry {
    public struct Family: Sendable {
        public let prefixes: [String]
        /// The family's name forms, for error messages.
        public let forms: String
        public let parse: @Sendable (String) throws -> any TaskSpec

        public init(prefixes: [String], forms: String, parse: @escaping @Sendable (String) throws -> any TaskSpec) {
            self.prefixes = prefixes
            self.forms = forms
            self.parse = parse
        }
    }

    /// The built-in families; `register` adds others (test-only families, plug-ins).
    nonisolated(unsafe) private static var registered: [Family] = [MLPTaskName.family, TransformerTaskName.family, ViTTaskName.family]
    private static let lock = NSLock()

    public static var families: [Family] { lock.withLock { registered } }

    /// Adds a family whose prefixes no registered family uses yet (a repeated call is a no-op).
    public static func register(_ family: Family) {
        lock.withLock {
            let taken = Set(registered.flatMap(\.prefixes))
            if taken.isDisjoint(with: family.prefixes) { registered.append(family) }
        }
    }

    public static var validForms: String { families.map(\.forms).joined(separator: "; ") }

    public static func parse(_ name: String) throws -> any TaskSpec {
        let prefix = String(name.prefix { $0 != "-" && $0 != "_" })
        guard let family = families.first(where: { $0.prefixes.contains(prefix) }) else {
            throw TaskError("task '\(name)': unknown model '\(prefix)'; valid task names: \(validForms)")
        }
        return try family.parse(name)
    }

    public static func makeTask(_ name: String, dataDir: String? = nil) throws -> any Task {
        try parse(name).makeTask(dataDir: dataDir)
    }
}
