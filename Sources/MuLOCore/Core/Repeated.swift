extension Sequence where Element: Hashable {
    /// The first element that occurs a second time, for "listed twice" errors: lists whose entries
    /// name files (widths, optimizers, tasks) must not hold one twice, or two runs share one file.
    public var firstRepeated: Element? {
        var seen = Set<Element>()
        for e in self where !seen.insert(e).inserted { return e }
        return nil
    }
}
