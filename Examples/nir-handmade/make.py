#!/usr/bin/env python3
"""Write small hand-made NIR graphs with the `nir` package's own writer (nir.write), as
fixtures for snnc's NIR reader. Every number is chosen by hand (see README.md); nothing is random.

    python make.py            # writes *.nir and expected.json beside this script
    python make.py NAME.nir   # writes only the graphs named

if-net.nir          Input[4] -> Affine(4->3) -> IF -> Affine(3->2) -> LIF -> Output   (float32)
cuba-net.nir        Input[2] -> Linear(2->2) -> CubaLIF -> Output                     (float64)
conv-net.nir        Input[1,6,6] -> Conv2d(1->2,3x3,s1,p1) -> IF -> SumPool2d(2) -> Flatten
                    -> Affine(18->3) -> LIF -> Output                                 (float32)
li-net.nir          Input[2] -> Linear(2->3) -> LIF -> Linear(3->2) -> LI -> Output   (a leaky readout)
cubali-net.nir      Input[2] -> Linear(2->3) -> LIF -> Linear(3->2) -> CubaLI -> Output
bad-unsupported.nir Input[2] -> Linear -> Delay -> Output  (a node type snnc does not support)
bad-recurrent.nir   Input[2] -> Linear -> nested NIRGraph{input -> LIF <-> Linear(w_rec); LIF ->
                    output} -> Output  (a recurrent edge inside a sub-graph, as snnTorch's
                    RLeaky exports)
"""
import json
import os
import sys

import numpy as np

import nir

HERE = os.path.dirname(os.path.abspath(__file__))
f32 = np.float32


def a32(x):
    return np.array(x, dtype=f32)


def if_net():
    fc1_w = a32([[1.0, 0.5, 0.0, -0.5],
                 [0.25, 0.25, 0.25, 0.25],
                 [-1.0, 0.0, 1.0, 2.0]])
    fc1_b = a32([0.0, 0.125, -0.25])
    fc2_w = a32([[1.0, -1.0, 0.5],
                 [0.5, 0.5, 0.5]])
    fc2_b = a32([0.0, 0.0625])
    nodes = {
        "input": nir.Input(input_type=np.array([4])),
        "fc1": nir.Affine(weight=fc1_w, bias=fc1_b,
                          metadata={"note": "hand-made", "version": 3}),
        "if1": nir.IF(r=a32([1.0, 1.0, 2.0]),
                      v_threshold=a32([1.0, 1.5, 2.0]),
                      v_reset=a32([0.0, 0.0, -0.5])),
        "fc2": nir.Affine(weight=fc2_w, bias=fc2_b),
        "lif2": nir.LIF(tau=a32([0.01, 0.02]),
                        r=a32([1.0, 2.0]),
                        v_leak=a32([0.0, 0.25]),
                        v_threshold=a32([1.0, 0.5]),
                        v_reset=a32([0.0, -0.125])),
        "output": nir.Output(output_type=np.array([2])),
    }
    edges = [("input", "fc1"), ("fc1", "if1"), ("if1", "fc2"), ("fc2", "lif2"),
             ("lif2", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def cuba_net():
    # float64 on purpose (numpy's default): exercises a reader's H5T_IEEE_F64LE path.
    nodes = {
        "input": nir.Input(input_type=np.array([2])),
        "w": nir.Linear(weight=np.array([[2.0, -1.0],
                                         [0.5, 1.5]])),
        "cuba": nir.CubaLIF(tau_syn=np.array([0.005, 0.01]),
                            tau_mem=np.array([0.02, 0.05]),
                            r=np.array([1.0, 1.0]),
                            v_leak=np.array([0.0, 0.0]),
                            w_in=np.array([1.0, 0.5]),
                            v_threshold=np.array([1.0, 1.0]),
                            v_reset=np.array([0.0, 0.0])),
        "output": nir.Output(output_type=np.array([2])),
    }
    edges = [("input", "w"), ("w", "cuba"), ("cuba", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


CONV_W = a32([[[[-1.0, 0.0, 1.0],      # out channel 0: vertical-edge detector
                [-1.0, 0.0, 1.0],
                [-1.0, 0.0, 1.0]]],
              [[[0.0, 0.25, 0.0],      # out channel 1: centre-weighted blob
                [0.25, 1.0, 0.25],
                [0.0, 0.25, 0.0]]]])   # (C_out=2, C_in=1, kH=3, kW=3)
CONV_B = a32([0.0, -0.5])
# Affine 18 -> 3 over the channel-major flattening index k = c*9 + h*3 + w of the pooled [2,3,3]:
FC_W = np.zeros((3, 18), dtype=f32)
FC_W[0, 0:9] = 1.0                                   # row 0: sum of channel 0
FC_W[1, 9:18] = 1.0                                  # row 1: sum of channel 1
FC_W[2, :] = [0.5 if k % 2 == 0 else -0.5 for k in range(18)]  # row 2: +0.5 even k, -0.5 odd k
FC_W[2, 4] = 2.0                                     # ... but 2.0 at k=4 (channel 0, centre)
FC_W[2, 13] = -2.0                                   # ... and -2.0 at k=13 (channel 1, centre)
FC_B = a32([0.0, 0.0, 0.25])


def conv_net():
    # IF parameters have the full [2,6,6] shape (NIR neurons carry one value per neuron);
    # the threshold differs per channel so a reader that swaps CHW/HWC is caught.
    vthr = np.empty((2, 6, 6), dtype=f32)
    vthr[0] = 1.0
    vthr[1] = 0.5
    nodes = {
        "input": nir.Input(input_type=np.array([1, 6, 6])),
        "conv": nir.Conv2d(input_shape=(6, 6), weight=CONV_W, stride=1, padding=1,
                           dilation=1, groups=1, bias=CONV_B),
        "if1": nir.IF(r=np.ones((2, 6, 6), dtype=f32), v_threshold=vthr,
                      v_reset=np.zeros((2, 6, 6), dtype=f32)),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                              padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0,
                            end_dim=-1),
        "fc": nir.Affine(weight=FC_W, bias=FC_B),
        "lif": nir.LIF(tau=a32([0.005, 0.01, 0.02]), r=a32([1.0, 1.0, 1.0]),
                       v_leak=a32([0.0, 0.0, 0.0]), v_threshold=a32([1.0, 2.0, 0.75]),
                       v_reset=a32([0.0, 0.0, 0.0])),
        "output": nir.Output(output_type=np.array([3])),
    }
    edges = [("input", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "flat"),
             ("flat", "fc"), ("fc", "lif"), ("lif", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def conv_net_uniform():
    # conv-net.nir with one value per parameter in each neuron layer (snnc's layers share one
    # value per parameter): IF threshold 1.0 everywhere, one LIF time constant and threshold.
    # The Conv2d, SumPool2d, Flatten and Affine are conv-net's, so expected.json's layout check
    # (conv_out, pooled, flat, fc_out from given spikes) holds for it too.
    nodes = dict(conv_net().nodes)
    nodes["if1"] = nir.IF(r=np.ones((2, 6, 6), dtype=f32), v_threshold=np.ones((2, 6, 6), dtype=f32),
                          v_reset=np.zeros((2, 6, 6), dtype=f32))
    nodes["lif"] = nir.LIF(tau=a32([0.01] * 3), r=a32([1.0] * 3), v_leak=a32([0.0] * 3),
                           v_threshold=a32([1.0] * 3), v_reset=a32([0.0] * 3))
    return nir.NIRGraph(nodes=nodes, edges=conv_net().edges)


def cuba_net_uniform():
    # cuba-net.nir (float64) with one value per parameter: tau_syn 5 ms, tau_mem 20 ms, r 1,
    # v_leak 0.25, w_in 2, v_threshold 1, v_reset -0.5.
    g = cuba_net()
    nodes = dict(g.nodes)
    nodes["cuba"] = nir.CubaLIF(tau_syn=np.array([0.005, 0.005]), tau_mem=np.array([0.02, 0.02]),
                                r=np.array([1.0, 1.0]), v_leak=np.array([0.25, 0.25]),
                                w_in=np.array([2.0, 2.0]), v_threshold=np.array([1.0, 1.0]),
                                v_reset=np.array([-0.5, -0.5]))
    return nir.NIRGraph(nodes=nodes, edges=g.edges)


def leaky_readout_net(cuba):
    # A LIF hidden layer read out by a leaky integrator (Norse's and Rockpool's usual readout):
    # LI with tau 10 ms, r 1, v_leak 0; CubaLI with tau_syn 5 ms, tau_mem 10 ms, w_in 1.
    nodes = {
        "input": nir.Input(input_type=np.array([2])),
        "w1": nir.Linear(weight=a32([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])),
        "lif": nir.LIF(tau=a32([0.005] * 3), r=a32([1.0] * 3), v_leak=a32([0.0] * 3),
                       v_threshold=a32([0.5] * 3), v_reset=a32([0.0] * 3)),
        "w2": nir.Linear(weight=a32([[1.0, -0.5, 0.5], [-0.5, 1.0, 0.5]])),
        "li": (nir.CubaLI(tau_syn=a32([0.005] * 2), tau_mem=a32([0.01] * 2), r=a32([1.0] * 2),
                          v_leak=a32([0.0] * 2), w_in=a32([1.0] * 2)) if cuba else
               nir.LI(tau=a32([0.01] * 2), r=a32([1.0] * 2), v_leak=a32([0.0] * 2))),
        "output": nir.Output(output_type=np.array([2])),
    }
    edges = [("input", "w1"), ("w1", "lif"), ("lif", "w2"), ("w2", "li"), ("li", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def bad_unsupported():
    nodes = {
        "input": nir.Input(input_type=np.array([2])),
        "w": nir.Linear(weight=a32([[1.0, 0.0], [0.0, 1.0]])),
        "delay": nir.Delay(delay=a32([0.001, 0.002])),
        "output": nir.Output(output_type=np.array([2])),
    }
    edges = [("input", "w"), ("w", "delay"), ("delay", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def bad_recurrent():
    # The same shape of sub-graph snnTorch's export_to_nir writes for an RLeaky layer.
    rec = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([2])),
            "lif": nir.LIF(tau=a32([0.001, 0.001]), r=a32([10.0, 10.0]),
                           v_leak=a32([0.0, 0.0]), v_threshold=a32([1.0, 1.0]),
                           v_reset=a32([0.0, 0.0])),
            "w_rec": nir.Linear(weight=a32([[0.0, -0.5], [-0.5, 0.0]])),
            "output": nir.Output(output_type=np.array([2])),
        },
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
    )
    nodes = {
        "input": nir.Input(input_type=np.array([2])),
        "w": nir.Linear(weight=a32([[1.0, 0.5], [0.5, 1.0]])),
        "rlif": rec,
        "output": nir.Output(output_type=np.array([2])),
    }
    edges = [("input", "w"), ("w", "rlif"), ("rlif", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


# ---- reference values for the conv-net's stateless parts (layout checks, no neuron dynamics) ----

CONV_X = a32([[0, 0, 1, 1, 0, 0],
              [0, 0, 1, 1, 0, 0],
              [0, 0, 1, 1, 0, 0],
              [0, 0, 0.5, 0.5, 0, 0],
              [0, 0, 0, 0, 0, 0],
              [0.25, 0, 0, 0, 0, 0.75]])[None]        # input [1,6,6], channel-first


def conv2d(x, w, b, pad):
    c_in, h, wd = x.shape
    xp = np.zeros((c_in, h + 2 * pad, wd + 2 * pad), dtype=np.float64)
    xp[:, pad:pad + h, pad:pad + wd] = x
    out = np.zeros((w.shape[0], h, wd), dtype=np.float64)
    for o in range(w.shape[0]):
        for i in range(h):
            for j in range(wd):
                # cross-correlation, as torch.nn.Conv2d (the kernel is not flipped)
                out[o, i, j] = b[o] + (xp[:, i:i + 3, j:j + 3] * w[o]).sum()
    return out


def sumpool2(x):
    c, h, w = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2).sum(axis=(2, 4))


def expected():
    conv_out = conv2d(CONV_X, CONV_W.astype(np.float64), CONV_B.astype(np.float64), 1)
    # a fixed spike map for the IF layer: spike where the conv output exceeds the threshold
    # (what an IF starting from 0 with r = 1 does on its first step of a constant input)
    thr = np.array([1.0, 0.5])[:, None, None]
    spikes = (conv_out > thr).astype(np.float64)
    pooled = sumpool2(spikes)
    flat = pooled.reshape(-1)                                   # channel-major (C, H, W)
    fc_out = FC_W.astype(np.float64) @ flat + FC_B.astype(np.float64)
    return {
        "comment": "conv-net.nir's stateless parts on a fixed input, float64, NIR layout "
                   "(channel-first; Flatten is channel-major, k = c*9 + h*3 + w). 'spikes' is "
                   "(conv_out > v_threshold[c]) as a stand-in for one step of the IF layer; "
                   "fc_out = FC_W @ flatten(sumpool2(spikes)) + FC_B. Checks weight layouts, "
                   "padding, cross-correlation and flatten order, not neuron dynamics.",
        "input_chw": CONV_X.astype(np.float64).tolist(),
        "conv_out_chw": conv_out.tolist(),
        "spikes_chw": spikes.astype(int).tolist(),
        "pooled_chw": pooled.astype(int).tolist(),
        "flat": flat.astype(int).tolist(),
        "fc_out": fc_out.tolist(),
    }


def main():
    graphs = {
        "if-net.nir": if_net(),
        "cuba-net.nir": cuba_net(),
        "conv-net.nir": conv_net(),
        "conv-net-uniform.nir": conv_net_uniform(),
        "cuba-net-uniform.nir": cuba_net_uniform(),
        "li-net.nir": leaky_readout_net(cuba=False),
        "cubali-net.nir": leaky_readout_net(cuba=True),
        "bad-unsupported.nir": bad_unsupported(),
        "bad-recurrent.nir": bad_recurrent(),
    }
    only = sys.argv[1:]
    for name, g in graphs.items():
        if only and name not in only:
            continue
        path = os.path.join(HERE, name)
        nir.write(path, g)
        back = nir.read(path)  # round trip through nir's own reader, with type checking
        assert set(back.nodes) == set(g.nodes) and len(back.edges) == len(g.edges), name
        print(f"{name}: {os.path.getsize(path)} bytes, nodes "
              + ", ".join(f"{k}:{type(n).__name__}" for k, n in back.nodes.items()))
    if only:
        return
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"conv-net.nir": expected()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
