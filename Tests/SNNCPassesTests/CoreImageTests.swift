import SNNCArtefact
import SNNCHardware
import SNNCIR
import SNNCJSON
import SNNCPasses
import Testing

/// The partitioner's per-core estimates against what is measured from the emitted bytes: every
/// core image in cores.bin decoded (not the estimating function), core by core, on every example
/// and every profile it compiles for.
@Suite struct CoreImageTests {
    static let profiles = ["generic", "loihi", "loihi2", "spinnaker", "spinnaker2", "dynapcnn"]
    static let examples = exampleModels.filter { !$0.contains("snnc-passes-vgg") }

    @Test(arguments: profiles)
    func estimatesMatchTheEmittedImages(name: String) throws {
        let pr = profile(name)
        var compiled = 0
        for path in Self.examples {
            var unit = CompileUnit(model: load(path), profile: pr)
            guard (try? Pipeline.run(&unit, clock: { 0 }, rss: { 0 })) != nil else { continue }
            compiled += 1
            let files = Dictionary(unit.artefactFiles, uniquingKeysWith: { a, _ in a })
            let bin = try #require(files[ArtefactFormat.coreImages])
            #expect(String(decoding: bin[0..<8], as: UTF8.self) == ArtefactFormat.coreImagesMagic)
            let cores = try JSONDocument.parse(try #require(files[ArtefactFormat.cores])).root["cores"]?.elements ?? []
            let part = try #require(unit.partition), g = try #require(unit.graph)
            #expect(cores.count == part.cores.count)
            let sizes = g.layers.map { (compartments: $0.compartments, neurons: $0.neurons) }
            let limits = pr.limits(core: 0)
            for (c, cv) in cores.enumerated() {
                let off = try #require(cv["image"]?["offset"]?.int), n = try #require(cv["image"]?["bytes"]?.int), raw = try #require(cv["image"]?["raw_bytes"]?.int)
                let bytes = try #require(Zlib.inflateZlib(bin[off..<(off + n)], expected: raw))
                let img = try CoreImage.decode(bytes[...], core: c, layerSizes: sizes)
                let est = part.cores[c].map { part.blocks[$0].resources }.reduce(CoreResources(), +)
                let where_ = "\(path) on \(name), core \(c)"
                #expect(img.compartments == est.neurons, "\(where_): neurons")
                let state = img.blocks.reduce(0) { $0 + ($1.layerCompartment.count * limits.stateBitsPerNeuron + 7) / 8 }
                #expect(state == est.stateBytes, "\(where_): state bytes")
                #expect(img.axons == est.inputAxons, "\(where_): input axons")
                #expect(img.synapses * limits.bitsPerSynapse == est.synapseBits, "\(where_): synapse bits \(img.synapses * limits.bitsPerSynapse) vs estimated \(est.synapseBits)")
                #expect(img.synapses > 0 || img.axons == 0, "\(where_): axons without synapses")
            }
        }
        #expect(compiled > 0)
    }

    /// An image survives encode → decode unchanged, and a truncated one is refused.
    @Test func roundTripAndTruncation() throws {
        var unit = CompileUnit(model: load(repoRoot + "/Examples/iris/model.json"), profile: profile("loihi"))
        _ = try Pipeline.run(&unit, clock: { 0 }, rss: { 0 })
        let sizes = unit.graph!.layers.map { (compartments: $0.compartments, neurons: $0.neurons) }
        #expect(unit.coreImages.count == unit.partition?.cores.count)
        for c in 0..<unit.coreImages.count {
            let bytes = try #require(Zlib.inflateZlib(unit.coreImages.compressed(c), expected: unit.coreImages.at[c].raw))
            let img = try CoreImage.decode(bytes[...], core: c, layerSizes: sizes)
            #expect(img.encoded() == bytes)
            #expect(throws: ArtefactError.self) { try CoreImage.decode(bytes.dropLast(), core: c, layerSizes: sizes) }
        }
    }
}
