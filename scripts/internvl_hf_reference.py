#!/usr/bin/env python3
"""Expected data for navil4j's InternVL "-hf" layout tests (fixtures/internvl3-hf/).

Converts fixtures/internvl3-tiny/model (remote-code InternVLChatModel layout) into transformers'
InternVLForConditionalGeneration layout the way transformers' convert_internvl_weights_to_hf.py does (config mapped
onto InternVLConfig, vision keys renamed, attn.qkv split into q/k/v, mlp1 -> multi_modal_projector, language_model.model
-> model.language_model, language_model.lm_head -> lm_head; the weights are loaded into transformers'
InternVLForConditionalGeneration and written by its save_pretrained), then records what transformers itself produces:

  hf/                       the files transformers writes (config.json, preprocessor/processor config, chat template,
                            tokenizer config); weights are not kept (navil4j's test converts them itself)
  tensor_names.json         the tensor names (and shapes) in transformers' saved model.safetensors
  preprocess.json           GotOcr2 image processor (PIL backend, crop_to_patches=True as InternVLProcessor passes it):
                            grid, tile count, per-tile SHA-256 of the float32 pixel values plus a few values, and how
                            far the torchvision backend (transformers' default when torchvision is installed) is,
                            emulated with torch's antialiased bicubic interpolate on uint8 and its fused normalize
  prompts.json              apply_chat_template renders (single image, two images, multi-round, no system message,
                            explicit system message, video) and processor input_ids for two of them
  logits.json               transformers' InternVLForConditionalGeneration logits (a few rows) on the converted weights,
                            and its greedy generate() ids for the same prompt

Run with the venv that has transformers 5.x + torch: /tmp/hfvenv/bin/python scripts/internvl_hf_reference.py
"""
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np
import torch

# The venv's torchvision build does not match its torch (its C++ ops fail to register), so it is hidden and
# transformers resolves the PIL backend; the torchvision backend's arithmetic is emulated in torchvision_like().
sys.modules["torchvision"] = None
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

import transformers
from transformers import (AutoProcessor, AutoTokenizer, InternVLConfig, InternVLForConditionalGeneration,
                          InternVLProcessor, InternVLVisionConfig, Qwen2Config)
from transformers.processing_utils import ProcessorMixin
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import (GotOcr2ImageProcessorPil,
                                                                        get_optimal_tiled_canvas)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(ROOT, "fixtures", "internvl3-tiny", "model")
OUT = os.path.join(ROOT, "fixtures", "internvl3-hf")

# the converter's list of remote-code config keys that InternVLConfig does not take
DROP = {"_name_or_path", "_attn_implementation_autoset", "auto_map", "use_bfloat16", "use_flash_attn", "bias",
        "laux_allreduce", "moe_coeff_ratio", "moe_intermediate_size", "moe_output_scale", "noisy_gate_policy",
        "shared_expert_intermediate_size", "use_residual", "use_moe", "use_rts", "use_weighted_residual", "moe_config",
        "num_experts", "num_routed_experts", "num_shared_experts", "capacity_factor", "eval_capacity_factor",
        "drop_path_rate"}

# the chat template the -hf repos ship (the converter's later version: images as <IMG_CONTEXT>)
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\\n' }}"
    "{% elif content['type'] == 'video' %}{{ '<video>\\n' }}{% elif content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}{{'<|im_end|>\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{'<|im_start|>assistant\\n' }}{% endif %}")

VISION_RENAMES = [(r"vision_model", "model.vision_tower"), (r"layers", "layer"), (r"class_embedding", "cls_token"),
                  (r"position_embedding", "position_embeddings"), (r"patch_embedding", "patch_embeddings.projection"),
                  (r"ls(\d+)", r"lambda_\1"), (r"attn.proj", "attention.projection_layer"), (r"attn", "attention"),
                  (r"norm1", "layernorm_before"), (r"norm2", "layernorm_after")]
TEXT_RENAMES = [(r"language_model.model.", "model.language_model."), (r"language_model.lm_head", "lm_head")]
MULTI_RENAMES = [(r"mlp1.0", "model.multi_modal_projector.layer_norm"),
                 (r"mlp1.1", "model.multi_modal_projector.linear_1"),
                 (r"mlp1.3", "model.multi_modal_projector.linear_2")]


def rename(key):
    rules = VISION_RENAMES if key.startswith("vision_model") else TEXT_RENAMES if key.startswith(
        "language_model") else MULTI_RENAMES
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def hf_config(original):
    vision = {k: v for k, v in original["vision_config"].items() if k not in DROP}
    vision["use_absolute_position_embeddings"] = True
    vision["use_qk_norm"] = vision.pop("qk_normalization")
    vision["attention_bias"] = vision.pop("qkv_bias")
    for k in ("architectures", "model_type", "torch_dtype"):
        vision.pop(k, None)
    text = {k: v for k, v in original["llm_config"].items() if k not in DROP}
    text["use_cache"] = True
    text.pop("torch_dtype", None)
    # InternVL3: the converter forces eos_token_id to <|im_end|>
    tok = json.load(open(os.path.join(SRC, "added_tokens.json")))
    text["eos_token_id"] = tok["<|im_end|>"]
    return InternVLConfig(text_config=Qwen2Config(**text), vision_config=InternVLVisionConfig(**vision),
                          image_token_id=tok["<IMG_CONTEXT>"], downsample_ratio=original["downsample_ratio"],
                          vision_feature_layer=original["select_layer"],
                          # the checkpoint's lm_head is its own tensor; InternVLConfig's default True would tie it to
                          # embed_tokens (InternVLForConditionalGeneration._tied_weights_keys) and drop it on save
                          tie_word_embeddings=original["tie_word_embeddings"],
                          architectures=["InternVLForConditionalGeneration"])


def convert(dst):
    original = json.load(open(os.path.join(SRC, "config.json")))
    config = hf_config(original)
    old = load_file(os.path.join(SRC, "model.safetensors"))
    dim = config.vision_config.hidden_size
    new = {}
    for key, t in old.items():
        nk = rename(key)
        if "attn.qkv" in key:
            new[nk.replace("attention.qkv", "attention.q_proj")] = t[:dim]
            new[nk.replace("attention.qkv", "attention.k_proj")] = t[dim:2 * dim]
            new[nk.replace("attention.qkv", "attention.v_proj")] = t[-dim:]
        else:
            new[nk] = t
    model = InternVLForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(new, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    model = model.to(torch.bfloat16).eval()
    model.save_pretrained(dst)
    size = original["force_image_size"]
    image_processor = GotOcr2ImageProcessorPil(do_resize=True, size={"height": size, "width": size}, do_rescale=True,
                                               rescale_factor=1 / 255, do_normalize=True,
                                               image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                                               do_convert_rgb=True)
    # the tokenizer files alone (next to the remote-code config.json AutoTokenizer would ask about custom code)
    tok_dir = os.path.join(dst, "_tokenizer")
    os.makedirs(tok_dir)
    for f in os.listdir(SRC):
        if f not in ("config.json", "model.safetensors", "preprocessor_config.json", "generation_config.json"):
            shutil.copy(os.path.join(SRC, f), tok_dir)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir, extra_special_tokens={
        "start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
        "video_token": "<video>"})
    tokenizer.chat_template = CHAT_TEMPLATE
    per_tile = (size // original["vision_config"]["patch_size"]) ** 2 * int(round(1 / original["downsample_ratio"])) ** -2
    shutil.rmtree(tok_dir)
    # InternVLVideoProcessor needs torchvision (hidden, see above): the processor is built without one, which its
    # argument check would refuse; images and the chat template do not use it
    ProcessorMixin.check_argument_for_proper_class = lambda self, name, arg: None
    processor = InternVLProcessor(image_processor=image_processor, tokenizer=tokenizer, chat_template=CHAT_TEMPLATE,
                                  image_seq_length=int(per_tile))
    # the processor files as the -hf repos ship them: preprocessor_config.json, processor_config.json (image_seq_length),
    # the tokenizer with its extra special tokens, and the chat template (ProcessorMixin.save_pretrained would also
    # want the video processor)
    image_processor.save_pretrained(dst)
    tokenizer.save_pretrained(dst)
    json.dump({"image_seq_length": int(per_tile), "processor_class": "InternVLProcessor"},
              open(os.path.join(dst, "processor_config.json"), "w"), indent=2)
    with open(os.path.join(dst, "chat_template.jinja"), "w") as f:
        f.write(CHAT_TEMPLATE)
    return model, processor


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


# a few fixed sample positions per tile (channel, y, x), spread over the tile
def samples(tile):
    c, h, w = tile.shape
    pts = [(0, 0, 0), (1, h // 2, w // 3), (2, h - 1, w - 1), (0, h // 3, w // 2), (1, 7, w - 9), (2, h // 2 + 5, 11)]
    return [[ci, y, x, float(tile[ci, y, x])] for ci, y, x in pts]


def torchvision_like(img, cols, rows, size, mean, std):
    """GotOcr2ImageProcessor (torchvision backend): tvF.resize of the uint8 CHW tensor (antialiased bicubic, which
    for uint8 on CPU is torch's interpolate), the same crops, then (x - 255*mean) / (255*std) in float32."""
    x = torch.from_numpy(np.asarray(img.convert("RGB"))).permute(2, 0, 1).contiguous()[None]
    def resize(h, w):
        return torch.nn.functional.interpolate(x, size=(h, w), mode="bicubic", antialias=True)[0]
    big = resize(size * rows, size * cols)
    tiles = [big[:, r * size:(r + 1) * size, c * size:(c + 1) * size] for r in range(rows) for c in range(cols)]
    if len(tiles) != 1:
        tiles.append(resize(size, size))
    m = torch.tensor(mean) * 255.0
    s = torch.tensor(std) * 255.0
    return torch.stack([(t.float() - m[:, None, None]) / s[:, None, None] for t in tiles]).numpy()


def preprocess_cases(pil, size):
    images = ["red_panda_500x373.png", "wide_1200x150.png", "tall_120x900.png", "tie_500x400.png",
              "gray_300x200.png", "tiny_40x30.png", "rgba_256x192.png", "palette_150x200.png"]
    cases = []
    for name in images:
        for max_patches in (12, 6, 4):
            img = Image.open(os.path.join(ROOT, "fixtures", "images", name))
            a = pil(images=[img], crop_to_patches=True, max_patches=max_patches, return_tensors="np")
            pv = a["pixel_values"].astype(np.float32)
            w, h = img.size
            cols, rows = get_optimal_tiled_canvas((h, w), (size, size), 1, max_patches)
            tvpv = torchvision_like(img, cols, rows, size, pil.image_mean, pil.image_std)
            cases.append({
                "image": "fixtures/images/" + name, "max_patches": max_patches,
                "grid": [int(cols), int(rows)], "num_patches": int(a["num_patches"][0]),
                "shape": list(pv.shape),
                "tile_sha256": [sha(t) for t in pv],
                "tile_sum": [float(t.astype(np.float64).sum()) for t in pv],
                "samples": [samples(t) for t in pv],
                "torchvision_backend_max_abs_diff": float(np.abs(pv - tvpv).max()) if pv.shape == tvpv.shape else None,
            })
    return cases


def prompt_cases(processor):
    img = {"type": "image"}
    conversations = {
        "single_image": [{"role": "user", "content": [img, {"type": "text", "text": "Describe the image."}]}],
        "two_images": [{"role": "user", "content": [img, img, {"type": "text", "text": "What differs?"}]}],
        "multi_round": [
            {"role": "user", "content": [img, {"type": "text", "text": "What animal is this?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "A red panda."}]},
            {"role": "user", "content": [{"type": "text", "text": "Where does it live?"}]}],
        "text_only_no_system": [{"role": "user", "content": [{"type": "text", "text": "Hello, who are you?"}]}],
        "explicit_system": [
            {"role": "system", "content": [{"type": "text", "text": "You are a terse assistant."}]},
            {"role": "user", "content": [img, {"type": "text", "text": "One word: what is it?"}]}],
        "video": [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens?"}]}],
    }
    out = {}
    for name, msgs in conversations.items():
        out[name] = {"messages": msgs,
                     "rendered": processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)}
    panda = Image.open(os.path.join(ROOT, "fixtures", "images", "red_panda_500x373.png"))
    wide = Image.open(os.path.join(ROOT, "fixtures", "images", "wide_1200x150.png"))
    for name, imgs in (("single_image", [panda]), ("two_images", [panda, wide]), ("explicit_system", [wide])):
        r = processor(text=out[name]["rendered"], images=imgs, max_patches=4)
        out[name]["images"] = ["fixtures/images/" + ("red_panda_500x373.png" if i is panda else "wide_1200x150.png")
                               for i in imgs]
        out[name]["max_patches"] = 4
        out[name]["num_patches"] = [int(n) for n in processor.image_processor(
            images=imgs, crop_to_patches=True, max_patches=4)["num_patches"]]
        out[name]["input_ids"] = [int(i) for i in r["input_ids"][0]]
    return out


def main():
    tmp = tempfile.mkdtemp()
    try:
        model, processor = convert(tmp)
        size = model.config.vision_config.image_size[0]
        os.makedirs(os.path.join(OUT, "hf"), exist_ok=True)
        for f in sorted(os.listdir(tmp)):
            if f.endswith(".json") or f.endswith(".jinja"):
                shutil.copy(os.path.join(tmp, f), os.path.join(OUT, "hf", f))
        with safe_open(os.path.join(tmp, "model.safetensors"), "pt") as st:
            names = {k: list(st.get_slice(k).get_shape()) for k in st.keys()}
        json.dump(names, open(os.path.join(OUT, "tensor_names.json"), "w"), indent=1, sort_keys=True)

        # the image processor as transformers reads it back from the saved preprocessor_config.json
        processor.image_processor = GotOcr2ImageProcessorPil.from_pretrained(tmp)
        pil = processor
        pre = {"transformers": transformers.__version__, "tile_size": size,
               "note": "GotOcr2ImageProcessorPil with crop_to_patches=True; per tile float32 SHA-256 (little endian, CHW)",
               "cases": preprocess_cases(pil.image_processor, size)}
        json.dump(pre, open(os.path.join(OUT, "preprocess.json"), "w"), indent=1)

        prompts = {"transformers": transformers.__version__, "cases": prompt_cases(pil)}
        json.dump(prompts, open(os.path.join(OUT, "prompts.json"), "w"), indent=1, ensure_ascii=False)

        # transformers' own forward on the converted checkpoint: float32 on the bf16 values, eager attention
        m = InternVLForConditionalGeneration.from_pretrained(tmp, dtype=torch.float32, attn_implementation="eager").eval()
        case = prompts["cases"]["single_image"]
        panda = Image.open(os.path.join(ROOT, "fixtures", "images", "red_panda_500x373.png"))
        inputs = pil(text=case["rendered"], images=[panda], max_patches=4, return_tensors="pt")
        with torch.no_grad():
            logits = m(input_ids=inputs["input_ids"], pixel_values=inputs["pixel_values"].float()).logits[0]
            # greedy generate() with the checkpoint's generation_config.json (eos <|im_end|>)
            gen = m.generate(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                             pixel_values=inputs["pixel_values"].float(), max_new_tokens=12, do_sample=False)
        n = logits.shape[0]
        rows = [0, n // 2, n - 1]
        json.dump({"transformers": transformers.__version__, "prompt": "single_image", "max_patches": 4,
                   "rows": rows, "logits": [[float(v) for v in logits[r]] for r in rows],
                   "generated_ids": [int(i) for i in gen[0][inputs["input_ids"].shape[1]:]]},
                  open(os.path.join(OUT, "logits.json"), "w"))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
