"""PyTorch float32 side of the training-speed comparison (not used by the build or CI).

Our own functional PyTorch version of the VoRA training step on fixtures/vora-train-tiny (the same graph
navil4j's dev.navil4j.train runs: LoRA Qwen2 + AIMv2 patch embedding + frozen AIMv2 teacher + distillation
heads, bidirectional image mask, HF shifted CE + 1 - cosine), timed per optimizer step (forward, backward,
torch.optim.AdamW). Prints the first loss (the fixture's is 11.626783) and the median tokens/s, counting
real spliced tokens as navil4j's Trainer does.

    python scripts/vora_train_speed.py [--threads 2] [--steps 20]
    # another shape: a pre-training checkpoint (e.g. OUT/init written by `navil4j train --base`) + its teacher,
    # one random sample of T text ids (the image at position 14, the last 24 ids labelled)
    python scripts/vora_train_speed.py --model OUT/init --teacher TEACHER --random-text-len 64 --image-size 224 --steps 4
"""
import argparse, json, struct, time, statistics
import numpy as np
import torch
import torch.nn.functional as F

FX = "fixtures/vora-train-tiny"


def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    dt = {"F32": np.float32, "I64": np.int64}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(n, hd, theta):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    ang = torch.arange(n).float()[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    return emb.cos(), emb.sin()


def rot(x, cos, sin):
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--model", default=f"{FX}/model")
    ap.add_argument("--teacher", default=f"{FX}/teacher")
    ap.add_argument("--random-text-len", type=int, default=0)
    ap.add_argument("--image-size", type=int, default=112)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(f"{a.model}/config.json"))
    tcfg = json.load(open(f"{a.teacher}/config.json"))
    W = read_st(f"{a.model}/model.safetensors")
    T = read_st(f"{a.teacher}/model.safetensors")
    if a.random_text_len:
        g = torch.Generator().manual_seed(0)
        n = a.random_text_len
        ids = torch.randint(0, 2000, (1, n), generator=g)
        ids[0, 14] = -200
        labels = torch.full((1, n), -100)
        labels[0, n - 24:] = ids[0, n - 24:]
        am = torch.ones(1, n, dtype=torch.int64)
        pv = torch.randn(1, 3, a.image_size, a.image_size, generator=g)
    else:
        X = read_st(f"{FX}/expected.safetensors")
        ids, labels, am, pv = X["inputs.input_ids"], X["inputs.labels"], X["inputs.attention_mask"], X["inputs.pixel_values"]
    trainable = [k for k in W if ".lora_" in k or k.startswith("vision_embedding") or k.startswith("aux_vision")
                 or (k.endswith(".bias") and any(t in k for t in ("o_proj", "gate_proj", "up_proj", "down_proj")))]
    for k in trainable:
        W[k].requires_grad_(True)
    opt = torch.optim.AdamW([W[k] for k in trainable], lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    H, KV, D, L, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["rms_norm_eps"]
    hd, p, th, tH = D // H, cfg["patch_size"], tcfg["hidden_size"], tcfg["num_attention_heads"]
    B, Tn = ids.shape

    def lin(x, name):
        y = x @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        if name + ".lora_A.weight" in W:
            y = y + (x @ W[name + ".lora_A.weight"].T) @ W[name + ".lora_B.weight"].T
        return y

    def patches(img, conv_w, conv_b):
        return F.conv2d(img, conv_w, conv_b, stride=p).flatten(2).transpose(1, 2)

    def step():
        with torch.no_grad():  # the frozen teacher
            t = rms(patches(pv, T["preprocessor.patchifier.proj.weight"], T["preprocessor.patchifier.proj.bias"]),
                    T["preprocessor.patchifier.norm.weight"], tcfg["rms_norm_eps"])
            t = t + T["preprocessor.pos_embed"][:, : t.shape[1]]
            th_out = []
            for j in range(tcfg["num_hidden_layers"]):
                b = f"trunk.blocks.{j}."
                y = rms(t, T[b + "norm_1.weight"], tcfg["rms_norm_eps"])
                q, k, v = (y @ T[b + "attn.qkv.weight"].T).view(B, -1, 3, tH, th // tH).permute(2, 0, 3, 1, 4)
                t = t + (F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, -1, th)) @ T[b + "attn.proj.weight"].T
                y = rms(t, T[b + "norm_2.weight"], tcfg["rms_norm_eps"])
                t = t + (F.silu(y @ T[b + "mlp.fc1.weight"].T) * (y @ T[b + "mlp.fc3.weight"].T)) @ T[b + "mlp.fc2.weight"].T
                th_out.append(t)
        v = rms(patches(pv, W["vision_embedding.patchifier.proj.weight"], W["vision_embedding.patchifier.proj.bias"]),
                W["vision_embedding.patchifier.norm.weight"], eps)
        v = (v + W["vision_embedding.pos_embed"][:, : v.shape[1]]) @ W["vision_embedding.out_proj.weight"].T
        N = v.shape[1]
        emb = W["llm.model.embed_tokens.weight"][ids.clamp(min=0)]
        xs, tg, km, vm = [], [], [], []
        for i in range(B):
            at = int((ids[i] == -200).nonzero()[0])
            xs.append(torch.cat([emb[i, :at], v[i], emb[i, at + 1:]]))
            tg.append(torch.cat([labels[i, :at], torch.full((N,), -100), labels[i, at + 1:]]))
            km.append(torch.cat([am[i, :at], torch.ones(N, dtype=am.dtype), am[i, at + 1:]]))
            vm.append(torch.cat([torch.zeros(at, dtype=torch.bool), torch.ones(N, dtype=torch.bool), torch.zeros(Tn - at - 1, dtype=torch.bool)]))
        x, tg, km, vm = torch.stack(xs), torch.stack(tg), torch.stack(km), torch.stack(vm)
        n = x.shape[1]
        allowed = torch.tril(torch.ones(n, n, dtype=torch.bool))[None] & km[:, None, :].bool()
        allowed = allowed | (vm[:, :, None] & vm[:, None, :])  # one image block per sample
        mask = torch.zeros(B, 1, n, n).masked_fill(~allowed[:, None], torch.finfo(torch.float32).min)
        cos, sin = rope_tables(n, hd, cfg["rope_theta"])
        hs = [x]
        for l in range(L):
            pre = f"llm.model.layers.{l}."
            y = rms(x, W[pre + "input_layernorm.weight"], eps)
            q = rot(lin(y, pre + "self_attn.q_proj").view(B, n, H, hd).transpose(1, 2), cos, sin)
            k = rot(lin(y, pre + "self_attn.k_proj").view(B, n, KV, hd).transpose(1, 2), cos, sin).repeat_interleave(H // KV, 1)
            vv = lin(y, pre + "self_attn.v_proj").view(B, n, KV, hd).transpose(1, 2).repeat_interleave(H // KV, 1)
            att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, -1) @ vv
            x = x + lin(att.transpose(1, 2).reshape(B, n, D), pre + "self_attn.o_proj")
            y = rms(x, W[pre + "post_attention_layernorm.weight"], eps)
            x = x + lin(F.silu(lin(y, pre + "mlp.gate_proj")) * lin(y, pre + "mlp.up_proj"), pre + "mlp.down_proj")
            hs.append(x)
        xf = rms(x, W["llm.model.norm.weight"], eps)
        hs[L] = xf
        logits = xf @ W["llm.lm_head.weight"].T
        lm = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), tg[:, 1:].reshape(-1), ignore_index=-100)
        dist = 0
        for j, tj in enumerate(th_out):
            s = rms(hs[j][vm], W[f"aux_vision.aux_layer_{j}.0.weight"], 1e-5) @ W[f"aux_vision.aux_layer_{j}.1.weight"].T
            dist = dist + (1 - F.cosine_similarity(tj.reshape(s.shape), s, dim=1)).mean()
        loss = lm + dist / len(th_out)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach()), int(km.sum())

    times, first = [], None
    for s in range(a.steps):
        t0 = time.perf_counter()
        loss, tokens = step()
        times.append(time.perf_counter() - t0)
        first = loss if first is None else first
    tps = [tokens / t for t in times[min(3, len(times) - 1):]]
    print(f"torch {torch.__version__} threads {a.threads}: first loss {first:.6f}, {tokens} tokens/step, "
          f"median {statistics.median(tps):.0f} tok/s over {len(tps)} steps")


if __name__ == "__main__":
    main()
