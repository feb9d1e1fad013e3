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

    /// Runs of one class: the latency after a switch may span frames; frames of the same label
    /// in a row are one run.
    @Test func latencyAfterASwitchSpansTheRun() {
        // Labels 1 1 2 2, 2 steps per frame: run 1 = steps 0…3 (classes 0 0 0 1 → settles at 3),
        // run 2 = steps 4…7 (classes 1 1 2 2 → settles at 2 steps after the switch).
        let classes: [Int32] = [0, 0, 0, 1, 1, 1, 2, 2]
        let s = Stream.summarize(classes: classes, labels: [1, 1, 2, 2], ann: [1, 1, 2, 2], eventsPerFrame: [1, 1, 1, 1], stepsPerFrame: 2, macs: 10)
        #expect(s.latencies == [3, 2])
        #expect(s.snnCorrect == 2 && s.frameClasses == [0, 1, 1, 2])
    }

    /// `--runs K`: K consecutive samples of one class, file order within a class, classes taking
    /// turns in order of first appearance; every sample used once.
    @Test func runsOfOneClass() {
        let labels = [0, 1, 0, 2, 1, 0, 1, 2, 0]
        let d = Dataset(samples: labels.map { [Double($0)] }, labels: labels, sampleShape: [1], classNames: nil, description: "t")
        #expect(Stream.sequence(d, runs: 2) == [0, 2, 1, 4, 3, 7, 5, 8, 6])
        #expect(Stream.sequence(d, runs: 1) == Array(0..<9))
        #expect(Set(Stream.sequence(d, runs: 4)).count == 9)
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
