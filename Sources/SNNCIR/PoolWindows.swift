// Pooling windows, shared by the ANN evaluator, the spiking network and the compiler; and 2^e.

/// 2^e, exactly (the LSB of a fixed-point format with exponent e).
@inline(__always)
public func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }

/// For each pooled output position, the input positions (channels-last flat indices) of its
/// window that lie inside the input.
public func poolMap(_ p: Pool2D, inShape: [Int], outShape: [Int]) -> ([Int32], [Int32]) {
    let (h, w, c) = (inShape[0], inShape[1], inShape[2])
    var starts: [Int32] = [0]
    var idx: [Int32] = []
    for oy in 0..<outShape[0] {
        for ox in 0..<outShape[1] {
            for ch in 0..<c {
                for ky in 0..<p.sizeH {
                    let iy = oy * p.strideH - p.padding.top + ky
                    if iy < 0 || iy >= h { continue }
                    for kx in 0..<p.sizeW {
                        let ix = ox * p.strideW - p.padding.left + kx
                        if ix < 0 || ix >= w { continue }
                        idx.append(Int32((iy * w + ix) * c + ch))
                    }
                }
                starts.append(Int32(idx.count))
            }
        }
    }
    return (starts, idx)
}

