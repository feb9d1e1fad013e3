// `snnc transfer`: simulate one neuron per activation S and compare its mean PSC with the
// transfer function f(S) (binary spikes) or with S (graded spikes, ASNN mode).
import SNNCIR
import SNNCJSON
import SNNCReference

public enum Transfer {
    public struct Options: Sendable {
        public var check: TransferCheck
        public var grid: [Double]
        public var json = false
        public var svgPath: String?
        public init(check: TransferCheck, grid: [Double]) {
            self.check = check
            self.grid = grid
        }
    }

    /// An S grid: `from` to `to` in `steps` equal steps.
    public static func grid(from: Double, to: Double, steps: Int) -> [Double] {
        guard steps > 0 else { return [from] }
        return (0...steps).map { from + (to - from) * Double($0) / Double(steps) }
    }

    public static func run(_ o: Options) -> CommandResult {
        var r = CommandResult()
        let points = o.grid.map { o.check.simulate($0) }
        let h = o.check.spikeHeight
        let mode = o.check.graded ? "graded (payload ϑ(t_s); expected: S above ϑ0/2)" : "binary (height h; expected: f(S))"
        if o.json {
            r.stdout = JSONOutput.object([
                ("theta0", .double(o.check.theta0)), ("m_f", .double(o.check.mf)),
                ("tau_gamma", .double(o.check.tauGamma)), ("tau_eta", .double(o.check.tauEta)),
                ("tau_beta", .double(o.check.tauBeta)), ("tau_phi", .double(o.check.tauPhi)),
                ("h", .double(h)), ("spike", .string(o.check.graded ? "graded" : "binary")),
                ("duration_ms", .int(o.check.durationMs)),
                ("points", .array(points.map { p in
                    .object([("s", .double(p.s)), ("expected", .double(p.expected)), ("mean_psc", .double(p.meanPSC)),
                             ("relative_error", p.relativeError.map { .double($0) } ?? .null), ("rate_hz", .double(p.rateHz))])
                })),
            ]).serialized()
        } else {
            var t = TextTable(headers: ["S", o.check.graded ? "expected" : "f(S)", "mean PSC", "rel. error", "rate Hz"],
                              alignments: [.right, .right, .right, .right, .right])
            for p in points {
                t.add([fmt(p.s, 4), fmt(p.expected, 5), fmt(p.meanPSC, 5),
                       p.relativeError.map { fmt($0 * 100, 2) + " %" } ?? "—", fmt(p.rateHz, 1)])
            }
            r.stdout = "ASN transfer: ϑ0 \(o.check.theta0), m_f \(o.check.mf), τ_γ \(o.check.tauGamma), τ_η \(o.check.tauEta), τ_β \(o.check.tauBeta), τ_φ \(o.check.tauPhi) ms, h \(fmt(h, 6)); \(mode); mean PSC over the last \(o.check.durationMs / 2) ms of \(o.check.durationMs) ms\n\n" + t.render()
        }
        if let path = o.svgPath {
            var plot = SVGPlot(title: "ASN transfer function (ϑ0 = \(o.check.theta0), m_f = \(o.check.mf)\(o.check.graded ? ", graded" : ""))",
                               xLabel: "activation S", yLabel: o.check.graded ? "mean PSC" : "f(S), mean PSC")
            let lo = o.grid.min() ?? 0, hi = o.grid.max() ?? 1
            let fine = grid(from: lo, to: hi, steps: 400)
            let tf = o.check.transfer
            plot.add(o.check.graded ? "S above ϑ0/2 (ReLU)" : "f(S), Methods form", fine.map { ($0, o.check.graded ? ($0 > o.check.theta0 / 2 ? $0 : 0) : tf.f($0, h: h)) })
            plot.add("simulated mean PSC", points.map { ($0.s, $0.meanPSC) }, dashed: true, markers: true, line: false)
            r.write(path, plot.render(), what: "plot")
        }
        return r
    }
}

/// Fixed decimals (see formatFixed).
@inline(__always)
public func fmt(_ v: Double, _ decimals: Int) -> String { formatFixed(v, decimals) }
