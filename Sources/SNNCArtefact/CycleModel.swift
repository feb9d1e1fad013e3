// The cycle model's arithmetic (Docs/core-timing.md), one definition for the emulator (counts
// measured step by step) and `snnc fit` (counts estimated from the mapping and firing rates).
public enum CycleModel {
    /// Cycles of one core in one step.
    public static func coreCycles(stepOverhead: Double, axonEvent: Double, synapticOp: Double, neuronUpdate: Double, spikeOut: Double,
                                  axonEvents: Double, synapticOps: Double, compartments: Double, packetsOut: Double) -> Double {
        stepOverhead + axonEvent * axonEvents + synapticOp * synapticOps + neuronUpdate * compartments + spikeOut * packetsOut
    }

    /// Energy in pJ: synaptic ops, neuron updates, and packet hops (each carrying `payloadBits`
    /// when the network sends graded spikes, 0 for binary ones).
    public static func energyPJ(synapticOpPJ: Double, neuronUpdatePJ: Double, spikeHopPJ: Double, payloadBitPJ: Double,
                                synapticOps: Double, neuronUpdates: Double, packetHops: Double, payloadBits: Int) -> Double {
        synapticOps * synapticOpPJ + neuronUpdates * neuronUpdatePJ + packetHops * (spikeHopPJ + Double(payloadBits) * payloadBitPJ)
    }
}
