// Chip families: the rules a chip's registers follow, beside the numbers a profile gives. A
// profile names its family (`"family"` in HardwareProfiles/NAME.json; `generic` when absent); the
// quantizer picks values the family can represent, the emulator runs the family's arithmetic
// (one file per family: FixedPointASN/FixedPointLIF for `generic`, LoihiLIF for `loihi`), and
// Docs/fixed-point.md states each family's rules in one section. This file is the one place the
// family's constants live.

/// A chip family: a named rule set for integer neurons and synapses.
public enum ChipFamily: String, Sendable, CaseIterable {
    /// snnc's own core: the profile's widths, rounding and overflow (Docs/fixed-point.md).
    case generic
    /// Intel Loihi's neuron and synapse arithmetic as Lava's bit-accurate models run it
    /// (lava/proc/lif/models.py `PyLifModelBitAcc`, lava/proc/dense/models.py
    /// `PyDenseModelBitAcc`, lava-nc 0.10.0); Docs/fixed-point.md "Loihi".
    case loihi

    /// What the family says of the IF family's reset: nil when every reset kind runs.
    public var offeredReset: String? {
        switch self {
        case .generic: nil
        case .loihi: "Loihi's compartment resets v to 0 in the step it spikes (u is kept); no subtractive reset, no other reset value, no next-step reset"
        }
    }
}

/// The register rules of a Loihi compartment and synapse, named as Lava names them. Every
/// number here is Lava's; the comment gives where it stands.
public enum LoihiRules {
    /// u and v are 24-bit (`uv_bitwidth`); `max_uv_val` = 2^23.
    public static let stateBits = 24
    public static let maxUV: Int64 = 1 << 23
    /// Decays are 12-bit multipliers applied as `sign(x)·(|x·(4096 − d)| >> 12)` (`decay_shift`,
    /// `decay_unity`): rounded toward zero.
    public static let decayShift = 12
    public static let decayUnity: Int64 = 1 << 12
    /// du and dv are unsigned 12-bit registers.
    public static let decayRegister: ClosedRange<Int> = 0...4095
    /// `ds_offset` (added to du) and `dm_offset` (added to dv): the current's multiplier is
    /// 4096 − (du + 1) ∈ 0…4095, the voltage's 4096 − dv ∈ 1…4096.
    public static let currentDecayOffset = 1
    public static let voltageDecayOffset = 0
    /// The threshold and the synaptic input are MSB-aligned by 6 bits (`vth_shift`, `act_shift`):
    /// the effective threshold is vth << 6 and a step's input adds a_in << 6 to u.
    public static let thresholdShift = 6
    public static let activationShift = 6
    /// vth: unsigned 17-bit.
    public static let thresholdMantissa: ClosedRange<Int> = 0...131_071
    /// bias_mant: signed 13-bit; bias_exp: unsigned 3-bit. lava-dl's netx loader fixes
    /// bias_exp = 6 for CUBA layers (lava/lib/dl/netx/hdf5.py `get_neuron_params`), so snnc
    /// uses 6 and a bias is a multiple of 64 state LSBs.
    public static let biasMantissa: ClosedRange<Int> = -4096...4095
    public static let biasExponentRange: ClosedRange<Int> = 0...7
    public static let biasExponent = 6
    /// The synaptic input port of the LIF process is declared 16-bit (`a_in`, np.int16), the
    /// dense output 32-bit; Lava's CPU channels carry the sender's int32.
    public static let synapticInputBits = 32

    /// How a projection's weights are signed (lava/utils/weightutils.py `SignMode`).
    public enum SignMode: String, Sendable {
        case mixed, excitatory, inhibitory

        /// The sign mode Lava's `determine_sign_mode` gives `weights`.
        public init(weights: [Double]) {
            if weights.allSatisfy({ $0 >= 0 }) { self = .excitatory } else if weights.allSatisfy({ $0 <= 0 }) { self = .inhibitory } else { self = .mixed }
        }
    }

    /// The weights a projection can have, in units of 2^6 state LSBs (the synaptic input's
    /// alignment): 8-bit magnitudes, with the sign as a ninth bit in mixed mode. netx reaches
    /// every integer of these ranges losslessly through its weight exponent
    /// (`optimize_weight_bits`; it clips mixed-sign weights above 254), and Dense's
    /// `clip_weights` bounds an inhibitory weight at −255.
    public static func weightRange(_ mode: SignMode) -> ClosedRange<Int> {
        switch mode {
        case .mixed: -256...254
        case .excitatory: 0...255
        case .inhibitory: -255...0
        }
    }

    /// The current's multiplier for register du (4096 − (du + 1)) and the du that gives a
    /// multiplier m (m ∈ 0…4095).
    public static func currentMultiplier(du: Int) -> Int64 { decayUnity - Int64(du + currentDecayOffset) }
    public static func du(currentMultiplier m: Int) -> Int { Int(decayUnity) - currentDecayOffset - m }
    /// The voltage's multiplier for register dv (4096 − dv) and the dv that gives m (m ∈ 1…4096).
    public static func voltageMultiplier(dv: Int) -> Int64 { decayUnity - Int64(dv + voltageDecayOffset) }
    public static func dv(voltageMultiplier m: Int) -> Int { Int(decayUnity) - voltageDecayOffset - m }

    /// A real bias, in units of 2^bias_exp state LSBs, as the 13-bit `bias_mant`: ties to even,
    /// clamped to the mantissa's range (NaN → 0). The quantizer (layer biases) and the emulator
    /// (an input layer's host current) both use it.
    public static func biasMantissa(_ units: Double) -> Int {
        let r = units.rounded(.toNearestOrEven)
        guard !r.isNaN else { return 0 }
        return Int(min(max(r, Double(biasMantissa.lowerBound)), Double(biasMantissa.upperBound)))
    }
}
