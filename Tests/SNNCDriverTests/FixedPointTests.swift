import SNNCEmulator
import SNNCIR
import Testing

/// The emulator's rounding rule against its definition in exact 128-bit integers
/// (Docs/fixed-point.md): x / 2^n rounded by each of the profiles' four modes.
@Suite struct FixedPointTests {
    static func reference(_ x: Int64, _ n: Int, _ mode: RoundingMode) -> Int64 {
        let d = Int128(1) << n, X = Int128(x)
        let fl = X >= 0 ? X / d : -((-X + d - 1) / d)  // floor
        let r = X - fl * d  // 0 ≤ r < d
        switch mode {
        case .floor: return Int64(fl)
        case .towardZero: return Int64(X / d)  // Swift's division truncates
        case .nearestAway: return Int64(2 * r > d || (2 * r == d && X >= 0) ? fl + 1 : fl)
        case .nearestEven: return Int64(2 * r > d || (2 * r == d && fl % 2 != 0) ? fl + 1 : fl)
        }
    }

    @Test(arguments: RoundingMode.allCases)
    func rshiftMatchesItsDefinition(mode: RoundingMode) {
        var rng = SeededRandom(seed: 29)
        var ties = 0
        for i in 0..<200_000 {
            let n = 1 + i % 62
            // Mix small values, exact ties (±k·2^(n−1)) and values across the whole range.
            let x: Int64
            switch i % 3 {
            case 0: x = Int64(rng.uniform() * 2_000_000) - 1_000_000
            case 1: x = (Int64(rng.uniform() * 64) - 32) &* (Int64(1) << Int64(n - 1)); ties += 1
            default: x = Int64(bitPattern: rng.next())
            }
            let got = FixedPointASN.rshift(x, n, mode), want = Self.reference(x, n, mode)
            if got != want { Issue.record("rshift(\(x), \(n), \(mode)) = \(got), expected \(want)"); return }
        }
        #expect(ties > 60_000)
        // n ≤ 0 shifts left, exactly.
        #expect(FixedPointASN.rshift(-3, -4, mode) == -48 && FixedPointASN.rshift(5, 0, mode) == 5)
    }

    /// fit (branch-free) against its definition: in range → x; else saturate to the b-bit
    /// bounds, or wrap — x − lo reduced modulo 2^b in exact 128-bit arithmetic, plus lo — and
    /// the overflow accumulator turns non-zero exactly when the value did not fit.
    @Test(arguments: [false, true])
    func fitMatchesItsDefinition(wrap: Bool) {
        var rng = SeededRandom(seed: 31)
        var outside = 0
        for i in 0..<200_000 {
            let b = 2 + i % 61
            let hi = (Int128(1) << (b - 1)) - 1, lo = -hi - 1
            let x: Int64 = i % 2 == 0 ? Int64(bitPattern: rng.next()) : Int64(truncatingIfNeeded: (Int128(rng.uniform() * 4) - 2) * (hi + 1) + Int128(rng.uniform() * 64) - 32)
            let X = Int128(x)
            let fits = X >= lo && X <= hi
            let m = Int128(1) << b
            let want = fits ? X : !wrap ? (X > hi ? hi : lo) : ((X - lo) % m + m) % m + lo
            var o: Int64 = 0
            let got = FixedPointASN.fit(x, bits: b, wrap: wrap, &o)
            if !fits { outside += 1 }
            if Int128(got) != want || (o != 0) == fits { Issue.record("fit(\(x), bits: \(b), wrap: \(wrap)) = \(got) (overflow \(o)), expected \(want)"); return }
        }
        #expect(outside > 50_000)
    }
}
