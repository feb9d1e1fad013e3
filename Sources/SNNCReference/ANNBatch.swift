// The analog network over a batch of inputs, for ANN accuracy: a dense layer is one matrix
// product per batch (X · Wᵀ), a convolution an im2col matrix times the kernel ([kh·kw·in] × out,
// the layout PreparedModel already holds), both through OpenBLAS (BLAS.swift); every other op
// is PreparedModel's, image by image. The spiking network's injected currents and biases do not
// come from here: they keep PreparedModel.value's per-target summation order (Simulator.swift).
// Batches are fixed by the model alone (not by the thread count), so the classes are the same
// for any number of threads.
import SNNCIR

public struct BatchedANN: Sendable {
    public let prepared: PreparedModel
    /// Images per batch: at most 64, fewer when one image's largest im2col matrix is big, so no
    /// batch's matrix exceeds 2 M doubles (16 MiB).
    public let batchSize: Int
    /// Nodes whose value a later node still needs, per node: when it can be dropped.
    let lastUse: [Int]
    let outputNode: Int
    /// Each pooling node's windows (poolMap: the windows the spiking network uses too).
    let poolWindows: [Int: ([Int32], [Int32])]

    public init(_ pm: PreparedModel) {
        prepared = pm
        var largest = 1
        for op in pm.ops {
            if case let .conv(_, _, g) = op { largest = max(largest, g.outH * g.outW * g.kh * g.kw * g.inC) }
        }
        batchSize = max(1, min(64, (2 << 20) / largest))
        var last = Array(pm.ops.indices)
        for (i, ins) in pm.inputs.enumerated() { for j in ins { last[j] = max(last[j], i) } }
        lastUse = last
        var windows = [Int: ([Int32], [Int32])]()
        for (i, op) in pm.ops.enumerated() {
            switch op {
            case let .maxpool(p, inShape), let .avgpool(p, inShape): windows[i] = poolMap(p, inShape: inShape, outShape: pm.model.nodes[i].shape)
            default: break
            }
        }
        poolWindows = windows
        outputNode = pm.ops.lastIndex { if case .readout = $0 { return true } else { return false } } ?? (pm.ops.count - 1)
    }

    /// The classes of `images` (argmax of the readout, the first on ties), in batches over
    /// `threads` workers.
    public func classify(_ images: [[Double]], threads: Int) -> [Int] {
        let batches = (images.count + batchSize - 1) / batchSize
        let perBatch = WorkerPool.map(batches, threads: threads) { b in
            classifyBatch(Array(images[(b * batchSize)..<min(images.count, (b + 1) * batchSize)]))
        }
        return perBatch.flatMap { $0 }
    }

    /// The readout's values (the logits) of `images`, in batches over `threads` workers.
    public func outputs(_ images: [[Double]], threads: Int) -> [[Double]] {
        let batches = (images.count + batchSize - 1) / batchSize
        let perBatch = WorkerPool.map(batches, threads: threads) { b in
            outputsBatch(Array(images[(b * batchSize)..<min(images.count, (b + 1) * batchSize)]))
        }
        return perBatch.flatMap { $0 }
    }

    /// One batch's classes: the argmax of each image's readout values.
    public func classifyBatch(_ images: [[Double]]) -> [Int] {
        outputsBatch(images).map(argmax)
    }

    /// One batch: every node's values for all its images, as one row-major [images][size] array;
    /// returns each image's readout values.
    public func outputsBatch(_ images: [[Double]]) -> [[Double]] {
        let n = images.count
        guard n > 0 else { return [] }
        let ops = prepared.ops, nodes = prepared.model.nodes
        var values = [[Double]?](repeating: nil, count: ops.count)
        for i in ops.indices {
            let size = nodes[i].shape.reduce(1, *)
            let ins = prepared.inputs[i]
            var y: [Double]
            switch ops[i] {
            case .input:
                y = [Double](repeating: 0, count: n * size)
                for (b, img) in images.enumerated() where img.count == size {
                    y.replaceSubrange((b * size)..<((b + 1) * size), with: img)
                }
            case let .dense(w, bias, inF, outF):
                y = [Double](repeating: 0, count: n * outF)
                _ = values[ins[0]]!.withUnsafeBufferPointer { x in
                    w.withUnsafeBufferPointer { wp in
                        y.withUnsafeMutableBufferPointer { yp in
                            BLAS.gemm(m: n, n: outF, k: inF, x, wp, transposeB: true, yp)
                        }
                    }
                }
                addBias(&y, bias)
            case let .conv(k, bias, g):
                y = Self.conv(values[ins[0]]!, images: n, kernel: k, bias: bias, g)
            case .maxpool:
                y = pool(values[ins[0]]!, windows: poolWindows[i]!, images: n, max: true)
            case .avgpool:
                y = pool(values[ins[0]]!, windows: poolWindows[i]!, images: n, max: false)
            default:
                y = ops[i].elementwise(ins.map { values[$0]! }) ?? []
            }
            values[i] = y
            for j in ins where lastUse[j] == i && j != outputNode { values[j] = nil }
        }
        let out = values[outputNode]!
        let size = out.count / n
        return (0..<n).map { b in Array(out[(b * size)..<((b + 1) * size)]) }
    }

    /// A convolution over `images` channels-last inputs: each image's im2col rows (one per output
    /// position, [ky][kx][in] like the kernel) times the kernel matrix, plus the bias.
    static func conv(_ x: [Double], images n: Int, kernel: [Double], bias: [Double], _ g: ConvGeometry) -> [Double] {
        let positions = g.outH * g.outW, kk = g.kh * g.kw * g.inC, inSize = g.inH * g.inW * g.inC
        var cols = [Double](repeating: 0, count: n * positions * kk)
        cols.withUnsafeMutableBufferPointer { cp in
            x.withUnsafeBufferPointer { xp in
                for b in 0..<n {
                    let xb = b * inSize
                    for oy in 0..<g.outH {
                        for ox in 0..<g.outW {
                            var r = ((b * positions) + oy * g.outW + ox) * kk
                            for ky in 0..<g.kh {
                                let iy = g.inputRow(oy, ky)
                                for kx in 0..<g.kw {
                                    let ix = g.inputColumn(ox, kx)
                                    if iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW {
                                        let s = xb + (iy * g.inW + ix) * g.inC
                                        for c in 0..<g.inC { cp[r + c] = xp[s + c] }
                                    }
                                    r += g.inC
                                }
                            }
                        }
                    }
                }
            }
        }
        var y = [Double](repeating: 0, count: n * positions * g.outC)
        _ = cols.withUnsafeMutableBufferPointer { cp in
            kernel.withUnsafeBufferPointer { kp in
                y.withUnsafeMutableBufferPointer { yp in
                    BLAS.gemm(m: n * positions, n: g.outC, k: kk, UnsafeBufferPointer(cp), kp, transposeB: false, yp)
                }
            }
        }
        addBias(&y, bias)
        return y
    }
}

/// y's rows (each bias.count long) plus the bias.
private func addBias(_ y: inout [Double], _ bias: [Double]) {
    let c = bias.count
    guard c > 0 else { return }
    for r in 0..<(y.count / c) { for o in 0..<c { y[r * c + o] += bias[o] } }
}
