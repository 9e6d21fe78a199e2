import Foundation

/// Files that live in the repository (MetaTasks/, Checkpoints/, the golden data beside it),
/// found from the working directory or from the executable's location in .build/.
enum RepositoryPaths {
    static var root: String {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// A meta-training config: a path to a .toml file, or a name under MetaTasks/.
    /// The names of the shipped experiments (MetaTasks/*.toml).
    static var metaConfigNames: [String] {
        let dir = (root as NSString).appendingPathComponent("MetaTasks")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".toml") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    static func metaConfig(_ nameOrPath: String) -> String? {
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        for base in [FileManager.default.currentDirectoryPath, root] {
            let p = (base as NSString).appendingPathComponent("MetaTasks/\(nameOrPath).toml")
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        return nil
    }
}
