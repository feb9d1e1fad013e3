// The profile's rounding rule: one definition for the compiler (a real value to an integer,
// FixedPoint.round), the profile reader and the emulator (a right shift, FixedPointASN.rshift;
// Docs/fixed-point.md).
public enum RoundingMode: String, Sendable, CaseIterable {
    case nearestEven = "nearest-even", nearestAway = "nearest-away", towardZero = "toward-zero", floor

    /// x rounded to an integer by this rule.
    @inline(__always)
    public func round(_ x: Double) -> Double {
        switch self {
        case .nearestEven: return x.rounded(.toNearestOrEven)
        case .nearestAway: return x.rounded(.toNearestOrAwayFromZero)
        case .towardZero: return x.rounded(.towardZero)
        case .floor: return x.rounded(.down)
        }
    }
}
