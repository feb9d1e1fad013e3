// Pooling windows, shared by the ANN evaluator, the spiking network and the compiler; and 2^e.

/// 2^e, exactly (the LSB of a fixed-point format with exponent e).
@inline(__always)
public func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

/// The input rows of pooled row `oy` that lie inside an input of `size` rows (its window, clipped).
public func poolRows(_ oy: Int, _ p: Pool2D, size: Int) -> [Int] {
    (0..<p.sizeH).map { oy * p.strideH - p.padding.top + $0 }.filter { $0 >= 0 && $0 < size }
}

/// The input columns of pooled column `ox` that lie inside an input of `size` columns.
public func poolCols(_ ox: Int, _ p: Pool2D, size: Int) -> [Int] {
    (0..<p.sizeW).map { ox * p.strideW - p.padding.left + $0 }.filter { $0 >= 0 && $0 < size }
}

/// For each pooled output position, the input positions (channels-last flat indices) of its
/// window that lie inside the input.
public func poolMap(_ p: Pool2D, inShape: [Int], outShape: [Int]) -> ([Int32], [Int32]) {
    let (h, w, c) = (inShape[0], inShape[1], inShape[2])
    var starts: [Int32] = [0]
    var idx: [Int32] = []
    for oy in 0..<outShape[0] {
        let rows = poolRows(oy, p, size: h)
        for ox in 0..<outShape[1] {
            let cols = poolCols(ox, p, size: w)
            for ch in 0..<c {
                for iy in rows { for ix in cols { idx.append(Int32((iy * w + ix) * c + ch)) } }
                starts.append(Int32(idx.count))
            }
        }
    }
    return (starts, idx)
}
