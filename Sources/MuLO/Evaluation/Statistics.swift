import Foundation

public enum Statistics {
    /// The "final loss" of a run: the mean training loss over its last 5% of steps (at least 10),
    /// which smooths minibatch noise; +∞ for a run that diverged.
    public static func finalLoss(_ trainLoss: [Float], diverged: Bool) -> Double {
        guard !diverged, !trainLoss.isEmpty else { return .infinity }
        let tail = trainLoss.suffix(max(10, trainLoss.count / 20))
        return tail.reduce(0.0) { $0 + Double($1) } / Double(tail.count)
    }

    /// Population standard deviation.
    public static func std(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let mean = xs.reduce(0, +) / Double(xs.count)
        return (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)).squareRoot()
    }

    /// Mean and standard error σ/√n with σ the population standard deviation (METHOD §6.3).
    public static func meanSE(_ xs: [Double]) -> (mean: Double, se: Double) {
        guard !xs.isEmpty else { return (.nan, .nan) }
        let n = Double(xs.count)
        return (xs.reduce(0, +) / n, std(xs) / n.squareRoot())
    }

    /// How far a run's training loss climbs back in its second half: over windows of 1% of its
    /// steps, the largest ratio of a window's mean to the lowest window mean before it (1: it never
    /// rose above its best; loss spikes after the fit show here). Nil for fewer than two windows
    /// or a non-finite loss; +∞ for a rise from an exactly zero loss.
    public static func rebound(_ trainLoss: [Float]) -> Double? {
        let means = windowMeans(trainLoss, window: max(1, trainLoss.count / 100)), n = means.count
        guard n >= 2, means.allSatisfy(\.isFinite) else { return nil }
        var best = means[0], worst = 1.0
        for k in 1..<n {
            if k >= n / 2 { worst = max(worst, best > 0 ? means[k] / best : (means[k] > 0 ? .infinity : 1)) }
            best = min(best, means[k])
        }
        return worst
    }

    /// The mean of each whole window of `window` values (a last partial window is dropped).
    public static func windowMeans(_ xs: [Float], window w: Int) -> [Double] {
        (0..<xs.count / w).map { k in xs[k * w..<(k + 1) * w].reduce(0.0) { $0 + Double($1) } / Double(w) }
    }

    /// The median (mean of the middle two for an even count); NaN for none.
    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Moving average with window w (shorter at the start), for plotting noisy curves.
    public static func smooth(_ xs: [Float], window w: Int) -> [Double] {
        var out: [Double] = []
        var sum = 0.0
        for (i, x) in xs.enumerated() {
            sum += Double(x)
            if i >= w { sum -= Double(xs[i - w]) }
            out.append(sum / Double(min(i + 1, w)))
        }
        return out
    }

    /// Ranks (1 = best) of values, ties sharing the mean rank; +∞ and NaN rank last.
    public static func ranks(_ values: [Double]) -> [Double] {
        let key = values.map { $0.isNaN ? Double.infinity : $0 }
        return key.map { v in
            let less = Double(key.filter { $0 < v }.count), equal = Double(key.filter { $0 == v }.count)
            return less + (equal + 1) / 2
        }
    }
}
