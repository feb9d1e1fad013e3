import SNNCDriver
import SNNCIR
import SNNCReference
import Testing

@Suite struct StreamTests {
    /// Latency: the first step from which the readout stays on the frame's label to the frame's
    /// end; a frame that ends on another class has none.
    @Test func latencyAndAccuracyFromAClassTrace() {
        // Frame 0 (label 1): 0 0 1 1 → settles at step 2. Frame 1 (label 2): 1 2 1 2 → at 3.
        // Frame 2 (label 0): 2 2 2 2 → never.
        let classes: [Int32] = [0, 0, 1, 1, 1, 2, 1, 2, 2, 2, 2, 2]
        let s = Stream.summarize(classes: classes, labels: [1, 2, 0], ann: [1, 2, 2], eventsPerFrame: [5, 6, 7], stepsPerFrame: 4, macs: 10)
        #expect(s.latencies == [2, 3, nil])
        #expect(s.snnCorrect == 2 && s.annCorrect == 2)
        #expect(s.frameClasses == [1, 2, 2])
    }

    /// One frame of a stream is the ordinary simulation; events per frame add up to the total.
    @Test func streamOfOneFrameIsASimulation() throws {
        let model = ModelLoader.load(path: repoRoot + "/Examples/iris/model.json").model!
        let net = try SpikingNetwork.lower(model).get()
        var o = SimulationOptions()
        o.durationMs = 60
        let sim = Simulator(network: net, options: o)
        let data = try DataLoader.load(path: repoRoot + "/Examples/iris/all.csv").get()
        let single = sim.simulate(data.samples[0])
        let (one, epf1) = sim.stream(frames: [data.samples[0]], stepsPerFrame: 60)
        #expect(one.classes == single.classes && epf1 == [single.synapticEvents])
        let frames = [data.samples[0], data.samples[70], data.samples[140]]
        let (three, epf) = sim.stream(frames: frames, stepsPerFrame: 250)
        #expect(three.classes.count == 750 && epf.count == 3 && epf.reduce(0, +) == three.synapticEvents)
        #expect(Array(three.classes.prefix(60)) == single.classes)
        // IRIS is sorted by class: without a reset the readout still moves to each new class.
        #expect(three.classes[249] == 0 && three.classes[499] == 1 && three.classes[749] == 2)
        #expect(Stream.annMACs(model) == 4 * 60 + 60 * 60 + 60 * 3)
    }
}
