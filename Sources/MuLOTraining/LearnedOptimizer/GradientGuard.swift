/// MuLO's rule for non-finite and huge gradients, applied before the accumulators.
///
/// The reference maps NaN → 0 and ±∞ → ±3.4e38; the next g² overflows, the tensor's
/// normalisers become ∞ and every parameter of that tensor turns NaN. MuLO instead maps NaN → 0
/// and clamps every entry to ±1e18 (so ±∞ → ±1e18): g² ≤ 1e36 stays finite in float32, and the
/// normaliser sums, kept in float64, stay finite too. For |g| ≤ 1e18 this is exactly the
/// reference behaviour; parameters stay finite and other tensors are untouched.
public enum GradientGuard {
    public static let bound: Float = 1e18

    @inlinable
    public static func sanitize(_ g: Float) -> Float {
        g.isNaN ? 0 : min(max(g, -bound), bound)
    }
}
