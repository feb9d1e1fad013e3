import Foundation
import SNNCDriver
import SNNCEmulator
import SNNCIR
import SNNCPasses
import Testing

/// ASNN mode on the compiled path: a plain ReLU network (the second seed) runs as graded-spike
/// ASNs — its first weighted layer on the host, payloads ϑ(t_s) fitted to the profile's width.
@Suite struct GradedTests {
    static let irisRelu = repoRoot + "/Examples/iris-relu/model.json"
    static let irisData = repoRoot + "/Examples/iris-relu/all.csv"

    func compile(_ model: String, _ profile: String) -> (String, CommandResult) {
        let dir = tempPath("graded")
        var o = Compile.Options(modelPath: model)
        o.profile = profile
        o.output = dir
        return (dir, Compile.run(o))
    }

    /// A host convolution, by hand: 3×3 input, one channel, 2×2 kernel, stride 1, padding 1
    /// on top/left, two output channels.
    @Test func hostConvolutionByHand() {
        let x: [Double] = [1, 2, 3,
                           4, 5, 6,
                           7, 8, 9]
        // weights [out][ky][kx][in]: channel 0 = [[1, 0], [0, 1]], channel 1 = [[0, 1], [1, 0]] / 2.
        let step = HostStep.conv(inShape: [3, 3, 1], outShape: [3, 3, 2], kernel: (2, 2), stride: (1, 1), dilation: (1, 1), padding: (1, 1),
                                 weights: [1, 0, 0, 1, 0, 0.5, 0.5, 0], bias: [10, 0])
        let y = step.apply(x)
        // Output (0,0): window rows −1…0, cols −1…0 → only x(0,0)=1 under w(1,1).
        #expect(y[0] == 11 && y[1] == 0)
        // Output (1,1): window rows 0…1, cols 0…1 = [1 2; 4 5]; ch0 = 1 + 5 + 10, ch1 = (2 + 4) / 2.
        #expect(y[(1 * 3 + 1) * 2] == 16 && y[(1 * 3 + 1) * 2 + 1] == 3)
        // Output (2,2): [5 6; 8 9]; ch0 = 5 + 9 + 10, ch1 = (6 + 8) / 2.
        #expect(y[(2 * 3 + 2) * 2] == 24 && y[(2 * 3 + 2) * 2 + 1] == 7)
        let d = HostStep.dense(inFeatures: 3, outFeatures: 2, weights: [1, 2, 3, -1, 0, 1], bias: [0.5, 0])
        #expect(d.apply([1, 1, 2]) == [9.5, 1])
    }

    /// The payload rule of Docs/fixed-point.md, by hand: ϑ = 104,864 LSBs with shift 2 →
    /// 26,216; a payload past 16 bits saturates at 32,767 and counts as an overflow.
    @Test func payloadShiftAndSaturation() {
        let n = FixedNumerics(rounding: .nearestEven, wrap: false, currentBits: 24, activationBits: 24, refractoryBits: 24, thresholdBits: 24, payloadBits: 16)
        var c = FixedConstants(k: 12, alphaBeta: 0, alphaPhi: 0, alphaEta: 0, alphaGamma: 0, mf: 0, theta0: 6554)
        c.payloadShift = 2
        var over: Int64 = 0  // non-zero once a value did not fit
        #expect(FixedPointASN.payload(104_864, c, n, &over) == 26_216 && over == 0)
        #expect(FixedPointASN.payload(6_554, c, n, &over) == 1_638 && over == 0)  // 6554 / 4 = 1638.5 → even
        #expect(FixedPointASN.payload(6_558, c, n, &over) == 1_640 && over == 0)  // 1639.5 → even
        c.payloadShift = 0
        #expect(FixedPointASN.payload(40_000, c, n, &over) == 32_767 && over != 0)
    }

    /// IRIS as a plain ReLU MLP: its first dense layer runs on the host (a chain in the artefact,
    /// never quantised), every ReLU is a graded ASN; the emulator check passes on loihi2 (24-bit
    /// payloads, no shift) and on generic (16 bits: shifts 2 and 6), with every layer's spikes
    /// within 1 % of the float reference.
    @Test func reluMLPChecksOnTwoPayloadWidths() throws {
        for (profile, shifts) in [("loihi2", [0, 0]), ("generic", [2, 6])] {
            let (dir, r) = compile(Self.irisRelu, profile)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            #expect(r.status == .success, "\(r.stderr)")
            #expect(r.stdout.contains("payload ϑ(t_s) of graded spikes"))
            let layers = try String(contentsOfFile: dir + "/layers.json", encoding: .utf8)
            #expect(layers.contains("\"op\":\"chain\"") || layers.contains("\"op\": \"chain\""))
            #expect(FileManager.default.fileExists(atPath: dir + "/host.bin"))
            let net = try ArtefactReader.load(dir)
            #expect(net.layers.filter(\.graded).map(\.constants.payloadShift) == shifts)
            #expect(net.layers[0].hostSteps.count == 1)
            var o = Emulate.Options(directory: dir, dataPath: Self.irisData)
            o.check = true
            o.progress = false
            o.maxSpikeDeviation = 1
            let c = Emulate.run(o)
            #expect(c.status == .success, "\(profile): \(c.stdout)\(c.stderr)")
            #expect(c.stdout.contains("98.67 %"), "\(c.stdout)")
        }
    }

    /// The host-side layer is not quantised (the quantisation table has no fc1), and the
    /// verifier would say so if it were.
    @Test func hostLayerStaysFloat() throws {
        let (dir, r) = compile(Self.irisRelu, "loihi2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let q = try String(contentsOfFile: dir + "/quantization.json", encoding: .utf8)
        #expect(r.status == .success && !q.contains("\"fc1\"") && q.contains("\"fc2\""))
    }

    /// The same ReLU network on a chip with binary spikes only is refused with the reason.
    @Test func binaryOnlyProfileRefusesAReLUNetwork() {
        let (dir, r) = compile(repoRoot + "/Examples/mnist-relu/model.json", "loihi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(r.status == .badInput)
        #expect(r.stderr.contains("node 'relu1': error[profile-unsupported]: this layer sends graded spikes (payload ϑ(t_s)) but profile 'loihi' has binary spikes only"))
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    /// Streaming in the emulator: one frame equals the ordinary run; events per frame add up;
    /// without a reset the readout still follows IRIS's sorted classes.
    @Test func emulatorStreamsWithoutReset() throws {
        let (dir, r) = compile(Self.irisRelu, "loihi2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(r.status == .success)
        let net = try ArtefactReader.load(dir)
        var eo = EmulationOptions()
        eo.durationMs = 80
        let emu = Emulator(net, options: eo)
        let data = try DataLoaderShim.csv(Self.irisData)
        let single = emu.emulate(data[0])
        let one = emu.emulate(frames: [data[0]], stepsPerFrame: 80)
        #expect(one.classes == single.classes && one.spikesPerLayer == single.spikesPerLayer && one.eventsPerFrame == [single.synapticEvents])
        let three = emu.emulate(frames: [data[0], data[70], data[140]], stepsPerFrame: 200)
        #expect(three.classes.count == 600 && three.eventsPerFrame.count == 3 && three.eventsPerFrame.reduce(0, +) == three.synapticEvents)
        #expect(Array(three.classes.prefix(80)) == single.classes)
        #expect(three.classes[199] == 0 && three.classes[399] == 1 && three.classes[599] == 2)
        // The command: fixed point and float side by side.
        var o = Emulate.Options(directory: dir, dataPath: Self.irisData)
        o.limit = 12
        let s = Stream.runEmulated(o, stepsPerFrame: 40)
        #expect(s.status == .success, "\(s.stderr)")
        #expect(s.stdout.contains("fixed point (emulator)") && s.stdout.contains("updates / ANN cost"))
    }
}

extension DataLoaderShim {
    static func csv(_ path: String) throws -> [[Double]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in line.split(separator: ",").dropLast().compactMap { Double($0) } }
    }
}
