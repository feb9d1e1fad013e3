// Checked conversions and arithmetic: the one place where a Double that came from input (a
// file, a flag, a computation on them) becomes an Int, and where sizes and offsets read from a
// file are multiplied or added. Each returns nil instead of trapping; callers turn nil into a
// diagnostic that names the object and the value (`param-range`, `overflow-possible`,
// `artefact-invalid`; Docs/diagnostics.md).

/// The largest magnitude `checkedInt` returns: 2^53, where every Double is still an exact
/// integer and sums of a few such values cannot overflow Int64.
public let checkedIntLimit = Double(1 << 53)

/// `x` rounded by `rule` as an Int; nil when `x` is NaN, infinite or beyond ±2^53.
@inline(__always)
public func checkedInt(_ x: Double, _ rule: FloatingPointRoundingRule = .towardZero) -> Int? {
    let r = x.rounded(rule)
    guard r.isFinite, abs(r) <= checkedIntLimit else { return nil }
    return Int(r)
}

/// `x` rounded by `rule` as an Int, clamped to ±2^53 (NaN gives 0): for counts and figures that
/// are printed, never for values that feed arithmetic.
@inline(__always)
public func clampedInt(_ x: Double, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Int {
    guard !x.isNaN else { return 0 }
    let r = x.rounded(rule)
    return Int(min(max(r, -checkedIntLimit), checkedIntLimit))
}

/// a · b, nil on overflow.
@inline(__always)
public func checkedMul(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : r
}

/// a + b, nil on overflow.
@inline(__always)
public func checkedAdd(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : r
}

/// The product of `dims`, nil when any is negative or the product overflows.
public func checkedProduct(_ dims: [Int]) -> Int? {
    var p = 1
    for d in dims {
        guard d >= 0, let q = checkedMul(p, d) else { return nil }
        p = q
    }
    return p
}
