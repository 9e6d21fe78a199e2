/// A pass over a TOML text before the parser sees it: TOMLKit's toml++ is built with its
/// assertions on and aborts the process where a key should start but none does — a non-ASCII
/// character (`[éuter]`) or a header with no key (`[[ = 1`). TOML allows non-ASCII only inside
/// strings and comments, and a header must open with a key, so these are refused here with their
/// position: the verdict the parser would reach, without the crash. (The fuzz suite drives it.)
enum TOMLPrecheck {
    static func check(_ text: String) -> String? {
        if let (line, column) = strayNonASCII(text) {
            return "a non-ASCII character outside a string or comment (at line \(line), column \(column))"
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            guard line.first == "[" else { continue }
            let key = line.dropFirst(line.hasPrefix("[[") ? 2 : 1).drop { $0 == " " || $0 == "\t" }
            guard let c = key.first, c.isASCII, c.isLetter || c.isNumber || "_-\"'".contains(c) else {
                return "a table header without a key (at line \(n + 1))"
            }
        }
        return nil
    }

    /// Line and column (1-based) of the first non-ASCII character outside strings and comments.
    static func strayNonASCII(_ text: String) -> (line: Int, column: Int)? {
        var quote: [Character]? = nil  // the delimiter of the open string: ", ', """ or '''
        var escaped = false
        var (line, column) = (1, 0)
        let chars = Array(text)
        var i = 0
        func starts(_ s: String) -> Bool { i + s.count <= chars.count && String(chars[i..<(i + s.count)]) == s }
        while i < chars.count {
            let c = chars[i]
            column += 1
            if c == "\n" {
                (line, column) = (line + 1, 0)
                if quote?.count == 1 { quote = nil }  // an unterminated one-line string: the parser reports it
            } else if let q = quote {
                if escaped {
                    escaped = false
                } else if c == "\\" && q.first == "\"" {
                    escaped = true
                } else if starts(String(q)) {
                    i += q.count - 1
                    quote = nil
                }
            } else if c == "#" {
                while i + 1 < chars.count && chars[i + 1] != "\n" { i += 1 }
            } else if starts("\"\"\"") || starts("'''") {
                quote = Array(String(repeating: c, count: 3))
                i += 2
            } else if c == "\"" || c == "'" {
                quote = [c]
            } else if !c.isASCII {
                return (line, column)
            }
            i += 1
        }
        return nil
    }
}
