import Foundation

/// Finds and reads text corpora by name, once per process. `austen` is Jane Austen's six novels
/// from Debian's r-cran-janeaustenr (read from its R data file; R is not needed), any other name
/// a UTF-8 text file `<dataDir>/<name>.txt` (dataDir: the argument, else `$MULO_DATA_DIR`, else
/// `./data`).
public enum CorpusLoader {
    /// Where the R data file lives: installed as a Debian package, or unpacked by
    /// scripts/install-deps.sh (`apt-get download` + `dpkg -x`, which does not pull in R).
    public static let austenCandidates = [
        "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb",
        "/usr/local/share/mulo/r-cran-janeaustenr/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb",
    ]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: [[UInt8]]] = [:]

    public static func load(_ name: String, sequenceLength: Int, dataDir: String? = nil) throws -> TextCorpus {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else {
            throw DataError("corpus name '\(name)' must be letters, digits and dots (austen, or a file <data-dir>/<name>.txt)")
        }
        let key = "\(name)|\(dataDir ?? "")"
        let sentences = try lock.withLock {
            if let hit = cache[key] { return hit }
            let s = try read(name, dataDir: dataDir)
            cache[key] = s
            return s
        }
        return try TextCorpus(name: name, sentences: sentences, sequenceLength: sequenceLength)
    }

    static func read(_ name: String, dataDir: String?) throws -> [[UInt8]] {
        if name == "austen" {
            let env = ProcessInfo.processInfo.environment["MULO_AUSTEN_RDB"]
            guard let path = ([env].compactMap { $0 } + austenCandidates).first(where: FileManager.default.fileExists) else {
                throw DataError("""
                    corpus austen reads Debian's r-cran-janeaustenr, not found at \(austenCandidates.joined(separator: " or ")); \
                    run scripts/install-deps.sh or set MULO_AUSTEN_RDB
                    """)
            }
            return TextCorpus.sentences(lines: try RDataStrings.records(path).flatMap { $0 })
        }
        let path = DatasetLoader.dataFile("\(name).txt", dataDir: dataDir)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError("unknown corpus '\(name)': not austen, and no text file \(path) (set --data-dir or MULO_DATA_DIR)")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw DataError("\(path) is not UTF-8 text") }
        let sentences = TextCorpus.sentences(lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        guard !sentences.isEmpty else { throw DataError("\(path) holds no sentences") }
        return sentences
    }
}
