import Foundation
import SNNCArtefact
import SNNCDriver
import SNNCEmulator
import SNNCImport
import SNNCIR
import SNNCJSON
import Testing

/// The Loihi chip family (issue 36): Lava's bit-accurate LIF rules (LoihiLIF.swift,
/// Docs/fixed-point.md "Loihi") on hand-derived values; a compiled network traced step for step
/// against an integer model written here from lava/proc/lif/models.py; the quantizer's
/// representable values and refusals; and export-lava's file read back.
@Suite struct LoihiFamilyTests {
    static let rules = repoRoot + "/Tests/SNNCDriverTests/Models/loihi-rules.json"
    static let threeLIF = repoRoot + "/Tests/SNNCDriverTests/Models/three-lif-neurons.json"

    @Test func decaysRoundTowardZero() {
        // sign(x)·(|x·m| >> 12): 7·2048 = 14336 → 3 (3.5 toward zero); −7 → −3 (not −4).
        #expect(LoihiLIF.decay(7, multiplier: 2048) == 3 && LoihiLIF.decay(-7, multiplier: 2048) == -3)
        // 4095/4096 of −1 is −0.99… → 0; of 4096 is 4095.
        #expect(LoihiLIF.decay(-1, multiplier: 4095) == 0 && LoihiLIF.decay(4096, multiplier: 4095) == 4095)
        // The registers: du 0 keeps 4095/4096 of u (ds_offset), du 4095 none; dv 0 keeps all of v.
        #expect(LoihiRules.currentMultiplier(du: 0) == 4095 && LoihiRules.currentMultiplier(du: 4095) == 0)
        #expect(LoihiRules.voltageMultiplier(dv: 0) == 4096 && LoihiRules.voltageMultiplier(dv: 4095) == 1)
        #expect(LoihiRules.du(currentMultiplier: 3735) == 360 && LoihiRules.dv(voltageMultiplier: 3939) == 157)
    }

    @Test func currentWrapsAsLavaWritesIt() {
        var w: Int64 = 0
        // a_in 2^17: 2^17 << 6 = 2^23, which Lava keeps (it tests u > 2^23).
        #expect(LoihiLIF.current(u: 0, aIn: 1 << 17, multiplier: 0, wrapped: &w) == 1 << 23 && w == 0)
        // One unit more: 2^23 + 64 → −2^23 + 64.
        #expect(LoihiLIF.current(u: 0, aIn: (1 << 17) + 1, multiplier: 0, wrapped: &w) == -(1 << 23) + 64 && w == 1)
        w = 0
        // −2^23 itself wraps (u ≤ −2^23) to +2^23.
        #expect(LoihiLIF.current(u: 0, aIn: -(1 << 17), multiplier: 0, wrapped: &w) == 1 << 23 && w == 1)
        w = 0
        // An integrating current: u 8,000,000 at 4095/4096 → 7,998,046 (toward zero), + 10·64 = 7,998,686.
        #expect(LoihiLIF.current(u: 8_000_000, aIn: 10, multiplier: 4095, wrapped: &w) == 7_998_686 && w == 0)
        // … + 7,000·64 = 8,446,046 > 2^23 → 8,446,046 − 2^24 = −8,331,170.
        #expect(LoihiLIF.current(u: 8_000_000, aIn: 7_000, multiplier: 4095, wrapped: &w) == -8_331_170 && w == 1)
    }

    @Test func voltageClipsSymmetrically() {
        var c: Int64 = 0
        #expect(LoihiLIF.voltage(v: 8_388_600, u: 100, bias: 0, multiplier: 4096, clipped: &c) == 8_388_607 && c == 1)
        c = 0
        #expect(LoihiLIF.voltage(v: -8_388_600, u: -100, bias: -64, multiplier: 4096, clipped: &c) == -8_388_607 && c == 1)
        c = 0
        // v 1000 at dv 1024 (3072/4096) → 750; + u 64 + bias 2·64 = 942.
        #expect(LoihiLIF.voltage(v: 1000, u: 64, bias: 128, multiplier: 3072, clipped: &c) == 942 && c == 0)
        #expect(LoihiLIF.threshold(vth: 154) == 9856)
    }

    /// The compiled network, step by step, against an integer model written here from Lava's
    /// code (u, then v with the bias, spike when v > vth << 6, v = 0): every spike of every layer
    /// over 300 steps, with the registers read from layers.json and weights.bin.
    @Test func compiledNetworkFollowsLavasStep() throws {
        let dir = compiledArtefact(Self.rules, "loihi", tag: "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let doc = try JSONDocument.parse(try readWholeFile(dir + "/layers.json", limit: 1 << 20))
        let layers = try #require(doc.root["layers"]?.elements)
        let wbin = try readWholeFile(dir + "/weights.bin", limit: 1 << 20)
        struct L { var n: Int; var uMul: Int64; var vMul: Int64; var th: Int64; var w: [[Int64]]; var bias: [Int64] }
        var ls: [L] = []
        for (i, rec) in layers.prefix(3).enumerated() {
            let nf = try #require(rec["neuron"])
            #expect(nf["family"]?.string == "loihi" && nf["reset"]?.string == "value" && nf["v_reset"]?.int == 0)
            let n = try #require(rec["shape"]?.elements.first?.int)
            let th = Int64(try #require(nf["threshold"]?.int))
            #expect(th % 64 == 0, "vth << 6")
            let cuba = nf["model"]?.string == "cuba_lif"
            var w: [[Int64]] = [], bias = [Int64](repeating: 0, count: n)
            if i > 0 {
                let wi = try #require(rec["inputs"]?.elements.first?["weights_bin"])
                let off = try #require(wi["offset"]?.int), shape = (wi["shape"]?.elements ?? []).compactMap { $0.int }
                let range = LoihiRules.weightRange(.mixed)
                // Weights are Lava's integers in units of 2^6 LSBs: the mantissa × 2^(e − s) = × 64.
                let e = try #require(wi["exponent"]?.int), sExp = try #require(nf["state_exponent"]?.int)
                #expect(e - sExp == 6)
                w = (0..<shape[0]).map { o in (0..<shape[1]).map { Int64(ArtefactFormat.i32(wbin, off + 4 * (o * shape[1] + $0))) } }
                #expect(w.joined().allSatisfy { range.contains(Int($0)) })
                if let bo = wi["bias_offset"]?.int { bias = (0..<n).map { Int64(ArtefactFormat.i32(wbin, bo + 4 * $0)) } }
                #expect(bias.allSatisfy { $0 % 64 == 0 }, "bias_mant << 6")
            }
            let syn = nf["syn_decay"]?.int ?? 0, mem = try #require(nf["mem_decay"]?.int)
            ls.append(L(n: n, uMul: cuba ? Int64(syn) : 0, vMul: Int64(mem), th: th, w: w, bias: bias))
        }
        // The input layer's host current: bias_mant = round(x·gain / 2^(s + 6)) << 6.
        let sA = try #require(layers[0]["neuron"]?["state_exponent"]?.int)
        let x = [0.31, 0.77, 0.05, 0.52]
        let hostA = x.map { Int64(($0 / Double(sign: .plus, exponent: sA + 6, significand: 1)).rounded(.toNearestOrEven)) << 6 }
        func dec(_ v: Int64, _ m: Int64) -> Int64 { let p = v * m; return p < 0 ? -((-p) >> 12) : p >> 12 }
        var u = ls.map { [Int64](repeating: 0, count: $0.n) }, v = u
        var spikes = ls.map { [Bool](repeating: false, count: $0.n) }
        var expected: [[[Int]]] = [[], [], []]
        let steps = 300
        for t in 0..<steps {
            var now = spikes
            for li in 0..<3 {
                let l = ls[li]
                for j in 0..<l.n {
                    // The dense output is last step's Σ w of the source's spikes (one step of delay).
                    let a: Int64 = li == 0 ? 0 : (0..<ls[li - 1].n).reduce(0) { $0 + (spikes[li - 1][$1] ? l.w[j][$1] : 0) }
                    var uu = dec(u[li][j], l.uMul) + (a << 6)
                    if uu > 1 << 23 { uu -= 1 << 24 } else if uu <= -(1 << 23) { uu += 1 << 24 }
                    u[li][j] = uu
                    let b = li == 0 ? hostA[j] : l.bias[j]
                    v[li][j] = min(max(dec(v[li][j], l.vMul) + uu + b, -(1 << 23) + 1), (1 << 23) - 1)
                    now[li][j] = v[li][j] > l.th
                    if now[li][j] {
                        v[li][j] = 0
                        expected[li].append([t, j])
                    }
                }
            }
            spikes = now
        }
        let net = try ArtefactReader.load(dir)
        var eo = EmulationOptions()
        eo.durationMs = steps
        let got = Emulator(net, options: eo).emulate(x, recordRaster: true)
        let raster = try #require(got.raster)
        for li in 0..<3 {
            #expect(raster[li].map { [$0.0, $0.1] }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) } == expected[li], "layer \(li)")
            #expect(expected[li].count > 10, "layer \(li) fires: \(expected[li].count)")
        }
    }

    /// Loihi's compartment resets v to 0 at once: a subtractive, non-zero or next-step reset is
    /// refused on `loihi`, naming the node, what it needs and what the chip offers; `loihi2`
    /// (programmable neurons) compiles it.
    @Test func resetsTheChipLacksAreRefused() {
        var o = Compile.Options(modelPath: Self.threeLIF)
        o.profile = "loihi"
        o.output = tempPath("loihi-reset")
        let r = Compile.run(o)
        #expect(r.status == .badInput)
        #expect(r.stderr.contains("node 'a': error[chip-reset]: needs a subtractive reset and its reset at the next step; profile 'loihi' offers: Loihi's compartment resets v to 0"), "\(r.stderr)")
        #expect(r.stderr.contains("node 'b': error[chip-reset]: needs a reset to v_reset = -0.1"))
        let dir = compiledArtefact(Self.threeLIF, "loihi2", tag: "loihi2-reset")
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Each kind of value Loihi's registers cannot hold: a threshold past the 17-bit vth is
    /// refused; biases past the 13-bit mantissa are clamped and reported; a decay the 12-bit
    /// register moves is reported with its τ; a CubaLIF bias moves to v and says so.
    @Test func unrepresentableValuesAreRoundedAndReportedOrRefused() throws {
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        func compile(_ edit: (String) -> String) -> CommandResult {
            let path = tempPath("loihi-values") + ".json"
            FileManager.default.createFile(atPath: path, contents: Data(edit(text).utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            var o = Compile.Options(modelPath: path)
            o.profile = "loihi"
            o.output = tempPath("loihi-values-out")
            defer { try? FileManager.default.removeItem(atPath: o.output!) }
            return Compile.run(o)
        }
        // Threshold: C's largest weight 0.6 sets the weight unit 2^-8 (0.6/254 rounded up to a
        // power of two), so v_threshold 600 needs vth 153,600 > 131,071.
        let th = compile { $0.replacingOccurrences(of: #""v_threshold": 0.7"#, with: #""v_threshold": 600"#) }
        #expect(th.status == .badInput && th.stderr.contains("node 'C': error[chip-value]: v_threshold 600.0 is vth 153600.0 at the weight unit 2^-8"), "\(th.stderr)")
        // Bias: 9.0 on C is ~3,800 units of 2^6 LSBs ×… past 4095 → clamped, with a warning.
        let b = compile { $0.replacingOccurrences(of: #""bias": [0.01, 0.02, -0.005]"#, with: #""bias": [0.01, 20.0, -0.005]"#) }
        #expect(b.status == .success && b.stderr.contains("node 'wC': warning[chip-value]: 1 biases clamped"), "\(b.stderr)")
        // Decay: τ_mem 9000 steps is 4096 − 0.455 → dv 0: no decay, reported.
        let d = compile { $0.replacingOccurrences(of: #""tau_mem": 9.7"#, with: #""tau_mem": 9000"#).replacingOccurrences(of: #""r": 9.7"#, with: #""r": 9000"#) }
        #expect(d.status == .success && d.stderr.contains("node 'B': warning[quant-decay]: the membrane's decay"), "\(d.stderr)")
        // The CubaLIF bias moves to v, and every layer gets its registers in a note.
        #expect(d.stderr.contains("node 'wB': warning[chip-value]: its bias feeds CubaLIF layer 'B'"))
        #expect(d.stderr.contains("node 'A': note[chip-value]: Loihi registers: vth"))
    }

    /// export-lava writes the artefact's integers: read back, every Dense weight and bias and every
    /// LIF register (du, dv, vth) equals the artefact's.
    @Test func exportLavaCarriesTheArtefactsIntegers() throws {
        let dir = compiledArtefact(Self.rules, "loihi", tag: "loihi-export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = tempPath("lava-export")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let data = out + "/x.csv"
        FileManager.default.createFile(atPath: data, contents: Data("a,b,c,d,label\n0.31,0.77,0.05,0.52,0\n0.9,0.1,0.4,0.2,1\n".utf8))
        var o = ExportLava.Options(directory: dir, outputPath: out + "/model.net")
        o.dataPath = data
        let r = ExportLava.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let netx = try LavaExport.read(out + "/model.net").get()
        #expect(netx.map(\.kind) == [.input, .dense, .dense] && netx.map(\.neurons) == [4, 6, 3])
        let doc = try JSONDocument.parse(try readWholeFile(dir + "/layers.json", limit: 1 << 20))
        let layers = try #require(doc.root["layers"]?.elements)
        let wbin = try readWholeFile(dir + "/weights.bin", limit: 1 << 20)
        for (i, l) in netx.enumerated() {
            let nf = try #require(layers[i]["neuron"])
            let cuba = nf["model"]?.string == "cuba_lif"
            let syn = nf["syn_decay"]?.int ?? 0, mem = try #require(nf["mem_decay"]?.int), th = try #require(nf["threshold"]?.int)
            #expect(l.iDecay - 1 == LoihiRules.du(currentMultiplier: cuba ? syn : 0))
            #expect(l.vDecay == LoihiRules.dv(voltageMultiplier: mem))
            #expect(l.vThMant << 6 == th)
            guard i > 0 else { continue }
            let wi = try #require(layers[i]["inputs"]?.elements.first?["weights_bin"])
            let off = try #require(wi["offset"]?.int), bo = try #require(wi["bias_offset"]?.int)
            #expect(l.weight == (0..<l.weight.count).map { Int64(ArtefactFormat.i32(wbin, off + 4 * $0)) })
            #expect(l.bias == (0..<l.neurons).map { Int64(ArtefactFormat.i32(wbin, bo + 4 * $0)) >> 6 })
        }
        // The input biases: per sample, the host current in units of 2^6 LSBs.
        let npy = try readWholeFile(out + "/model.inputs.npy", limit: 1 << 20)
        #expect(npy.count == 128 + 2 * 4 * 4)
        let net = try ArtefactReader.load(dir)
        let first = net.hostCurrents([0.31, 0.77, 0.05, 0.52])[0].map { $0 >> 6 }
        #expect((0..<4).map { Int64(ArtefactFormat.i32(npy, 128 + 4 * $0)) } == first)
        // An ASN artefact is refused by name.
        let iris = compiledArtefact(repoRoot + "/Examples/iris/model.json", "loihi", tag: "loihi-asn")
        defer { try? FileManager.default.removeItem(atPath: iris) }
        let refused = ExportLava.run(ExportLava.Options(directory: iris, outputPath: out + "/iris.net"))
        #expect(refused.status == .badInput && refused.stderr.contains("error[lava-export]"), "\(refused.stderr)")
    }
}

extension LoihiFamilyTests {
    /// Conv and flatten: netx's conv weight is torch's [out][in][ky][kx] where the artefact holds
    /// [out][ky][kx][in]; after a flatten netx orders a layer's neurons c·H·W + h·W + w where snnc
    /// is channels-last, so the dense columns and the input biases are reordered.
    @Test func exportLavaReordersConvFlattenAndInputs() throws {
        let dir = compiledArtefact(repoRoot + "/Tests/SNNCDriverTests/Models/loihi-conv.json", "loihi", tag: "loihi-conv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = tempPath("lava-conv")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let x = (0..<32).map { Double($0 % 7) / 7 }
        FileManager.default.createFile(atPath: out + "/x.csv", contents: Data(((0..<32).map { "f\($0)" }.joined(separator: ",") + ",label\n" + x.map { "\($0)" }.joined(separator: ",") + ",0\n").utf8))
        var o = ExportLava.Options(directory: dir, outputPath: out + "/model.net")
        o.dataPath = out + "/x.csv"
        let r = ExportLava.run(o)
        #expect(r.status == .success, "\(r.stderr)")
        let netx = try LavaExport.read(out + "/model.net").get()
        #expect(netx.map(\.kind) == [.input, .conv, .flatten, .dense])
        #expect(netx[0].shape == [2, 4, 4] && netx[1].shape == [3, 4, 4] && netx[1].kernel == [3, 3] && netx[1].padding == [1, 1] && netx[1].stride == [1, 1])
        let doc = try JSONDocument.parse(try readWholeFile(dir + "/layers.json", limit: 1 << 20))
        let layers = try #require(doc.root["layers"]?.elements)
        let wbin = try readWholeFile(dir + "/weights.bin", limit: 1 << 20)
        func weights(_ li: Int) throws -> [Int64] {
            let wi = try #require(layers[li]["inputs"]?.elements.first?["weights_bin"])
            let off = try #require(wi["offset"]?.int), n = try #require(wi["count"]?.int)
            return (0..<n).map { Int64(ArtefactFormat.i32(wbin, off + 4 * $0)) }
        }
        let conv = try weights(1), dense = try weights(2)
        for o in 0..<3 { for i in 0..<2 { for y in 0..<3 { for k in 0..<3 {
            #expect(netx[1].weight[((o * 2 + i) * 3 + y) * 3 + k] == conv[((o * 3 + y) * 3 + k) * 2 + i])
        } } } }
        for r in 0..<2 { for c in 0..<3 { for h in 0..<4 { for w in 0..<4 {
            #expect(netx[3].weight[r * 48 + (c * 4 + h) * 4 + w] == dense[r * 48 + (h * 4 + w) * 3 + c])
        } } } }
        let net = try ArtefactReader.load(dir)
        let host = net.hostCurrents(x)[0].map { $0 >> 6 }
        let npy = try readWholeFile(out + "/model.inputs.npy", limit: 1 << 20)
        for c in 0..<2 { for h in 0..<4 { for w in 0..<4 {
            #expect(Int64(ArtefactFormat.i32(npy, 128 + 4 * ((c * 4 + h) * 4 + w))) == host[(h * 4 + w) * 2 + c])
        } } }
        let meta = try JSONDocument.parse(try readWholeFile(out + "/model.export.json", limit: 1 << 20))
        #expect(meta.root["layers"]?.elements.map { $0["netx"]?.int ?? -1 } == [0, 1, 2] && meta.root["layers"]?.elements.map { $0["file_layer"]?.int ?? -1 } == [0, 1, 3])
    }
}
