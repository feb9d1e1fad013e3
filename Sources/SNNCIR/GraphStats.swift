// Per-node counts that `snnc inspect` prints. Definitions (Docs/model-format.md, "Counting"):
// - parameters: stored numbers (weights + bias; 4 per channel for batchnorm);
// - neurons: spiking neurons, i.e. elements of `asn`, `relu` (a graded ASN), `if`, `lif` and `cuba_lif` outputs;
// - synapses: connections that exist, Σ over output neurons of their fan-in; a conv tap that
//   falls on padding is no synapse;
// - max fan-in: the largest fan-in of one output neuron of the node;
// - MACs: multiply-accumulates of the analog layer, counted the usual way (every kernel tap of
//   every output, padding included), so they agree with common FLOP counters.

public struct NodeStats: Sendable, Equatable {
    public var parameters: Int = 0
    public var neurons: Int = 0
    public var synapses: Int = 0
    public var maxFanIn: Int = 0
    public var macs: Int = 0

    public init(parameters: Int = 0, neurons: Int = 0, synapses: Int = 0, maxFanIn: Int = 0, macs: Int = 0) {
        self.parameters = parameters
        self.neurons = neurons
        self.synapses = synapses
        self.maxFanIn = maxFanIn
        self.macs = macs
    }
}

public enum GraphStats {
    public static func stats(of node: Node, inputShapes: [[Int]]) -> NodeStats {
        var s = NodeStats()
        switch node.attributes {
        case .dense(let d):
            s.parameters = d.weight.count + (d.bias?.count ?? 0)
            s.synapses = d.inFeatures * d.outFeatures
            s.maxFanIn = d.inFeatures
            s.macs = d.inFeatures * d.outFeatures
        case .conv2d(let c):
            s.parameters = c.weight.count + (c.bias?.count ?? 0)
            let inS = inputShapes[0]
            let rows = validTaps(input: inS[0], output: node.shape[0], window: c.kernelH, stride: c.strideH, dilation: c.dilationH, padBefore: c.padding.top)
            let cols = validTaps(input: inS[1], output: node.shape[1], window: c.kernelW, stride: c.strideW, dilation: c.dilationW, padBefore: c.padding.left)
            s.synapses = rows.reduce(0, +) * cols.reduce(0, +) * c.inChannels * c.outChannels
            s.maxFanIn = (rows.max() ?? 0) * (cols.max() ?? 0) * c.inChannels
            s.macs = node.shape[0] * node.shape[1] * c.outChannels * c.inChannels * c.kernelH * c.kernelW
        case .batchnorm(let b):
            s.parameters = 4 * b.gamma.count
        case .asn, .relu, .lif:
            s.neurons = node.outputCount
        default:
            break
        }
        return s
    }

    /// For each output position along one axis, how many kernel taps land inside the input.
    public static func validTaps(input: Int, output: Int, window: Int, stride: Int, dilation: Int, padBefore: Int) -> [Int] {
        (0..<output).map { validTaps(at: $0, input: input, window: window, stride: stride, dilation: dilation, padBefore: padBefore) }
    }

    /// How many kernel taps of output position `o` land inside the input (one axis).
    @inline(__always)
    public static func validTaps(at o: Int, input: Int, window: Int, stride: Int, dilation: Int, padBefore: Int) -> Int {
        var n = 0
        for k in 0..<window {
            let i = o * stride - padBefore + k * dilation
            if i >= 0 && i < input { n += 1 }
        }
        return n
    }

    /// Stats of every node, in model order, and their totals (max fan-in as the maximum).
    public static func table(_ model: Model) -> (rows: [(Node, NodeStats)], total: NodeStats) {
        var shapes: [String: [Int]] = [:]
        var rows: [(Node, NodeStats)] = []
        var total = NodeStats()
        for n in model.nodes {
            let st = stats(of: n, inputShapes: n.inputs.map { shapes[$0] ?? [] })
            shapes[n.name] = n.shape
            rows.append((n, st))
            total.parameters += st.parameters
            total.neurons += st.neurons
            total.synapses += st.synapses
            total.maxFanIn = max(total.maxFanIn, st.maxFanIn)
            total.macs += st.macs
        }
        return (rows, total)
    }
}
