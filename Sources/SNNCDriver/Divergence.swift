// When a check fails, where: the first (image, step, layer, neuron) at which the fixed-point
// spike train leaves the float one by more than a tolerance (the cumulative spike counts of one
// neuron differ by more than `tolerance` spikes). And `--trace FILE --cores …`: per step, the
// spikes and the state of chosen cores — golden vectors for bringing up a real chip.
import SNNCEmulator
import SNNCIR
import SNNCJSON
import SNNCReference

public struct Divergence: Sendable {
    public var image: Int, step: Int
    public var layer: String, neuron: Int
    /// The neuron's position (row, column, channel) for spatial layers.
    public var position: (Int, Int, Int)?
    public var fixedSpikes: Int, floatSpikes: Int
    public var tolerance: Int

    public var text: String {
        let pos = position.map { " (row \($0.0), column \($0.1), channel \($0.2))" } ?? ""
        return "first divergence: image \(image), step \(step), layer '\(layer)', neuron \(neuron)\(pos): \(fixedSpikes) spikes in fixed point against \(floatSpikes) in float by then (tolerance \(tolerance))"
    }

    public var json: JSONOutput {
        .object([("image", .int(image)), ("step", .int(step)), ("layer", .string(layer)), ("neuron", .int(neuron)),
                 ("fixed_spikes", .int(fixedSpikes)), ("float_spikes", .int(floatSpikes)), ("tolerance", .int(tolerance))])
    }

    /// Re-runs `image` in both engines with spike rasters and walks them step by step.
    static func find(image: Int, sample: [Double], emulator: Emulator, reference: Simulator, tolerance: Int) -> Divergence? {
        let net = emulator.net
        let fixed = emulator.emulate(sample, recordRaster: true).raster ?? []
        let float = reference.simulate(sample).raster ?? []
        let refIndex = Dictionary(reference.network.layers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var best: Divergence? = nil
        for (li, l) in net.layers.enumerated() {
            guard let ri = refIndex[l.name], li < fixed.count, ri < float.count else { continue }
            var count = [Int: (Int, Int)]()  // neuron → (fixed, float) so far
            var a = 0, b = 0
            let fx = fixed[li], fl = float[ri]
            while a < fx.count || b < fl.count {
                let t = min(a < fx.count ? fx[a].0 : Int.max, b < fl.count ? Int(fl[b].step) : Int.max)
                if let d = best, t >= d.step { break }
                var touched: [Int] = []
                while a < fx.count && fx[a].0 == t { count[fx[a].1, default: (0, 0)].0 += 1; touched.append(fx[a].1); a += 1 }
                while b < fl.count && Int(fl[b].step) == t { let n = Int(fl[b].neuron); count[n, default: (0, 0)].1 += 1; touched.append(n); b += 1 }
                if let n = touched.filter({ abs(count[$0]!.0 - count[$0]!.1) > tolerance }).min() {
                    let c = count[n]!
                    let pos: (Int, Int, Int)? = l.h * l.w > 1 ? (n / (l.w * l.c), (n / l.c) % l.w, n % l.c) : nil
                    best = Divergence(image: image, step: t, layer: l.name, neuron: n, position: pos, fixedSpikes: c.0, floatSpikes: c.1, tolerance: tolerance)
                    break
                }
            }
        }
        return best
    }
}

public enum Trace {
    /// Runs one sample and returns the trace of `cores` as JSON lines: per step and core, the
    /// spikes of its neurons ([layer, neuron]), its compartments ([layer, index, I, S]) and
    /// neurons ([layer, index, Ŝ, ϑ]).
    public static func record(_ emulator: Emulator, sample: [Double], cores: [Int]) -> String {
        let net = emulator.net
        var owner = [Int: Int]()  // layer × 2^32 + neuron → core
        for c in cores { for b in net.cores[c].blocks where !b.dendrite { for n in b.layerNeuron { owner[b.layer << 32 | Int(n)] = c } } }
        var lines: [(step: Int, core: Int, text: String)] = []
        let result = emulator.emulate(frames: [sample], stepsPerFrame: emulator.options.durationMs, recordRaster: true) { t, trace in
            for c in cores {
                let st = trace.state(core: c)
                let comps = st.compartments.map { "[\($0.layer),\($0.index),\($0.I),\($0.S)]" }.joined(separator: ",")
                let neurons = st.neurons.map { "[\($0.layer),\($0.index),\($0.sHat),\($0.theta)]" }.joined(separator: ",")
                lines.append((t, c, "\"compartments\":[\(comps)],\"neurons\":[\(neurons)]"))
            }
        }
        // Spikes from the raster, by (step, core).
        var spikes = [Int: [String]]()
        for (li, r) in (result.raster ?? []).enumerated() {
            for (t, n) in r { if let c = owner[li << 32 | n] { spikes[t << 20 | c, default: []].append("[\(li),\(n)]") } }
        }
        var out = JSONOutput.object([("trace", .string("snnc-core-trace")), ("version", .int(1)), ("model", .string(net.model)), ("profile", .string(net.profile)),
                                     ("layers", .array(net.layers.map { .string($0.name) })), ("cores", .array(cores.map { .int($0) }))]).serialized(pretty: false)
        if !out.hasSuffix("\n") { out += "\n" }
        for l in lines {
            out += "{\"step\":\(l.step),\"core\":\(l.core),\"spikes\":[\((spikes[l.step << 20 | l.core] ?? []).joined(separator: ","))],\(l.text)}\n"
        }
        return out
    }
}
