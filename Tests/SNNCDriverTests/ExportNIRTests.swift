import Foundation
import SNNCDriver
import SNNCIR
import SNNCImport
import SNNCReference
import Testing

/// `snnc export-nir` (issue 19): IF-family networks written as NIR graphs read back by snnc with
/// the convention the export names give the same network — every sample's class at every step and
/// every layer's spikes — and the same inputs give the same bytes. (The `nir` package 1.0.8 reads
/// these files too: checked by hand, Docs/nir.md.)
@Suite struct ExportNIRTests {
    /// Simulates `path` (read with `nir`) on `data`: classes per step of every sample, spikes per layer.
    func run(_ path: String, _ data: String, nir: NIROptions, steps: Int, limit: Int) throws -> ([[Int32]], [Int]) {
        let model = try #require(ModelFiles.load(path: path, nir: nir).model, "\(ModelFiles.load(path: path, nir: nir).diagnostics)")
        guard case .success(let net) = SpikingNetwork.lower(model) else { throw CancellationError() }
        let samples = try DataLoader.load(path: data).get().prefix(limit)
        var o = SimulationOptions()
        o.durationMs = steps
        let res = Simulator(network: net, options: o).run(images: samples.samples)
        return (res.map(\.classes), res.reduce([Int](repeating: 0, count: res[0].spikesPerLayer.count)) { zip($0, $1.spikesPerLayer).map(+) })
    }

    func export(_ model: String, _ out: String, dt: Double = 1e-4, nir: NIROptions = NIROptions()) -> CommandResult {
        var o = ExportNIR.Options(modelPath: model, outputPath: out)
        o.dt = dt
        o.nir = nir
        return ExportNIR.run(o)
    }

    @Test func snnTorchNetRoundTrips() throws {
        let dir = tempPath("nir-export")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = repoRoot + "/Examples/nir-snntorch-mnist/model.nir", data = repoRoot + "/Examples/nir-snntorch-mnist/test-data.json"
        let r = export(src, dir + "/a.nir")
        #expect(r.status == .success && r.stdout.contains("--nir-convention snntorch"), "\(r.stderr)")
        #expect(export(src, dir + "/b.nir").status == .success)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.nir")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.nir")))
        let a = try run(src, data, nir: NIROptions(), steps: 25, limit: 100), b = try run(dir + "/a.nir", data, nir: NIROptions(), steps: 25, limit: 100)
        #expect(a.0 == b.0 && a.1 == b.1 && a.1[0] > 0)
    }

    /// A converted network: batch-norms folded, IF layers with spike height λ (folded into the
    /// next weights), read back at NIR's dt with snnTorch's reading (subtract; for IF at once and
    /// on the next step are the same).
    @Test func convertedIrisRoundTrips() throws {
        let dir = tempPath("nir-export-iris")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = Convert.Options(modelPath: repoRoot + "/Examples/iris-relu/model.json", outputPath: dir + "/iris-if.json")
        c.calibratePath = repoRoot + "/Examples/iris-relu/all.csv"
        #expect(Convert.run(c).status == .success)
        let r = export(dir + "/iris-if.json", dir + "/iris-if.nir")
        #expect(r.status == .success, "\(r.stderr)")
        let data = repoRoot + "/Examples/iris-relu/test.csv"
        let a = try run(dir + "/iris-if.json", data, nir: NIROptions(), steps: 200, limit: 30), b = try run(dir + "/iris-if.nir", data, nir: NIROptions(), steps: 200, limit: 30)
        #expect(a.0 == b.0 && a.1 == b.1 && a.1.dropLast().allSatisfy { $0 > 0 })
    }

    /// The nir package's graphs (conv, pooling and its scale, flatten order, CubaLIF, LI and CubaLI
    /// readouts) at dt 1 ms with NIR's reading, on seeded inputs.
    @Test(arguments: ["conv-net-uniform", "cuba-net-uniform", "li-net", "cubali-net"])
    func handMadeGraphsRoundTrip(_ name: String) throws {
        let dir = tempPath("nir-export-hand")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let opts = NIROptions(convention: .nir, dt: 1e-3)
        let src = repoRoot + "/Examples/nir-handmade/\(name).nir"
        let r = export(src, dir + "/x.nir", dt: 1e-3, nir: opts)
        #expect(r.status == .success && r.stdout.contains("--nir-convention nir --nir-dt 0.001"), "\(r.stdout)\(r.stderr)")
        let features = name == "conv-net-uniform" ? 36 : 2, scale = name == "conv-net-uniform" ? 400.0 : 2.0
        try seededCSV(features: features, samples: 20, scale: scale, seed: 7).write(toFile: dir + "/d.csv", atomically: true, encoding: .utf8)
        let a = try run(src, dir + "/d.csv", nir: opts, steps: 80, limit: 20), b = try run(dir + "/x.nir", dir + "/d.csv", nir: opts, steps: 80, limit: 20)
        #expect(a.0 == b.0 && a.1 == b.1 && a.1.dropLast().allSatisfy { $0 > 0 }, "\(a.1) \(b.1)")
    }

    /// What NIR cannot say is refused by node: an ASN, and resets no single NIR reading covers.
    @Test func refusals() throws {
        let dir = tempPath("nir-export-bad")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let asn = export(repoRoot + "/Examples/iris/model.json", dir + "/a.nir")
        #expect(asn.status == .badInput && asn.diagnostics.contains { $0.id == .nirExport && $0.object?.hasPrefix("node '") == true })
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.nir"))
        // three-lif-neurons mixes snnTorch's next-step subtraction with a reset to v_reset.
        let mixed = export(repoRoot + "/Tests/SNNCDriverTests/Models/three-lif-neurons.json", dir + "/m.nir")
        #expect(mixed.diagnostics.contains { $0.id == .nirExport && $0.message.contains("reset") }, "\(mixed.stderr)")
    }
}
