/// Sizes that come from files and flags: products checked for overflow (the release build is
/// `-Ounchecked`, where a wrapped product would pass silently) and capped before any allocation.
public enum CheckedSize {
    /// The most elements MuLO allocates for one array read from a file (8 GiB of float32).
    public static let maxElements = 1 << 31

    /// The product of `dims` if every factor is ≥ 0 and it stays within `limit`; nil otherwise.
    public static func product(_ dims: [Int], limit: Int = maxElements) -> Int? {
        var n = 1
        for d in dims {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, p <= limit else { return nil }
            n = p
        }
        return n
    }
}
