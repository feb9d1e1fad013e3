// The host side of an input layer: what the host computes from a sample before the chip sees
// it (Docs/artefact.md, `host_encoding`). The paper's networks start with batch-norm → ASN, an
// affine per feature; a standard ReLU network starts with a weighted layer that reads the analog
// input, so that layer runs on the host in float64 and its output is the injected current.
public enum HostStep: Sendable {
    /// x·scale + shift per channel (channels-last: feature j has channel j % count).
    case affine(scale: [Double], shift: [Double])
    /// Weights [out][in], bias [out].
    case dense(inFeatures: Int, outFeatures: Int, weights: [Double], bias: [Double])
    /// Channels-last in/out shapes (H, W, C); weights [out][ky][kx][in], bias [out].
    case conv(inShape: [Int], outShape: [Int], kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), padding: (Int, Int),
              weights: [Double], bias: [Double])

    /// Values this step expects and produces (for the reader's checks).
    public var sizes: (input: Int?, output: Int?) {
        switch self {
        case .affine: return (nil, nil)
        case .dense(let i, let o, _, _): return (i, o)
        case .conv(let i, let o, _, _, _, _, _, _): return (i.reduce(1, *), o.reduce(1, *))
        }
    }

    public func apply(_ x: [Double]) -> [Double] {
        switch self {
        case .affine(let scale, let shift):
            return x.indices.map { j in x[j] * scale[j % scale.count] + shift[j % shift.count] }
        case .dense(let nIn, let nOut, let w, let b):
            var y = b
            for o in 0..<nOut {
                var s = 0.0
                let row = o * nIn
                for i in 0..<min(nIn, x.count) { s += w[row + i] * x[i] }
                y[o] += s
            }
            return y
        case .conv(let inS, let outS, let k, let st, let dl, let pd, let w, let b):
            let (ih, iw, ic) = (inS[0], inS[1], inS[2]), (oh, ow, oc) = (outS[0], outS[1], outS[2])
            var y = [Double](repeating: 0, count: oh * ow * oc)
            for oy in 0..<oh { for ox in 0..<ow { for o in 0..<oc {
                var s = b[o]
                for ky in 0..<k.0 {
                    let iy = oy * st.0 - pd.0 + ky * dl.0
                    if iy < 0 || iy >= ih { continue }
                    for kx in 0..<k.1 {
                        let ix = ox * st.1 - pd.1 + kx * dl.1
                        if ix < 0 || ix >= iw { continue }
                        let wBase = ((o * k.0 + ky) * k.1 + kx) * ic, xBase = (iy * iw + ix) * ic
                        for i in 0..<ic where xBase + i < x.count { s += w[wBase + i] * x[xBase + i] }
                    }
                }
                y[(oy * ow + ox) * oc + o] = s
            } } }
            return y
        }
    }
}
