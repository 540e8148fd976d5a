"""PyTorch models that `tensorlint verify --to keras` must prove equal to their translation (tests/test_verify_zoo.py).

Every constructor argument has a default (verify builds models with their defaults). ZOO maps each symbol to its
`--input-shape` values (batch included) and extra verify flags.
"""

import torch
import torch.nn.functional as F
from torch import nn


class VGGBN(nn.Module):
    """VGG-style: stacks of 3x3 conv + BatchNorm + ReLU, max pooling, then a flattening classifier."""

    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class ProjectionBlock(nn.Module):
    """ResNet basic block whose shortcut is a strided 1x1 convolution + BatchNorm."""

    def __init__(self, in_channels=8, out_channels=16, stride=2):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels),
        )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class IdentityBlock(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


class ResNetBasic(nn.Module):
    """Stem, an identity block, a projection block (stride 2), global pooling, linear head."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = IdentityBlock(8)
        self.layer2 = ProjectionBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual when shapes allow."""

    def __init__(self, channels=8, expansion=4):
        super().__init__()
        hidden = channels * expansion
        self.expand = nn.Sequential(nn.Conv2d(channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6())
        self.depthwise = nn.Sequential(
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
        )
        self.project = nn.Sequential(nn.Conv2d(hidden, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        return x + self.project(self.depthwise(self.expand(x)))


class MobileNetV2Tiny(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU6())
        self.block = InvertedResidual(8, 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.pool(self.block(self.stem(x)))
        return self.head(torch.flatten(x, 1))


class LSTMTextClassifier(nn.Module):
    """Embedding -> LSTM -> the last time step -> linear."""

    def __init__(self, vocab=50, dim=8, hidden=12, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.head(out[:, -1])


class GRUClassifier(nn.Module):
    def __init__(self, features=6, hidden=10, classes=4):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.gru(x)
        return F.softmax(self.head(out[:, -1]), dim=-1)


class BiLSTMTagger(nn.Module):
    """Per-token tags from a bidirectional LSTM over embeddings (batch first)."""

    def __init__(self, vocab=40, dim=8, hidden=6, tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.tagger = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        out, _ = self.lstm(self.embed(tokens))
        return self.tagger(out)


class TransformerEncoderBlock(nn.Module):
    """Pre-norm encoder block: LayerNorm -> self-attention -> residual, LayerNorm -> ReLU MLP -> residual."""

    def __init__(self, dim=16, heads=4, hidden=32):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=0.1, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, dim))

    def forward(self, x):
        h = self.norm1(x)
        attended, _ = self.attn(h, h, h)
        x = x + attended
        return x + self.mlp(self.norm2(x))


class ConvTransposeAutoencoder(nn.Module):
    """Strided conv encoder with BatchNorm, transposed-conv decoder back to the input size."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(2, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 2, stride=2), nn.ReLU(),
            nn.ConvTranspose2d(8, 2, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


class SignalNet1D(nn.Module):
    """1-D signal classifier: conv/BatchNorm/pool, a dilated conv, global average pooling."""

    def __init__(self, channels=2, classes=3):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, 8, 5, padding=2)
        self.bn1 = nn.BatchNorm1d(8)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(8, 16, 3, dilation=2)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        return self.fc(self.gap(x).squeeze(-1))


class UNetSmall(nn.Module):
    """Two-level U-Net: encoder, bottleneck, transposed-conv upsampling, skip concatenation on channels."""

    def __init__(self, in_channels=3, classes=2):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(in_channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec1 = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU())
        self.out = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        skip = self.enc1(x)
        bottom = self.enc2(self.pool(skip))
        x = torch.cat([self.up(bottom), skip], dim=1)
        return self.out(self.dec1(x))


class TwoHeadNet(nn.Module):
    """A shared trunk and two heads: returns (class logits, regression)."""

    def __init__(self, features=10, classes=3):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(features, 16), nn.LayerNorm(16), nn.GELU())
        self.classify = nn.Linear(16, classes)
        self.regress = nn.Linear(16, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.classify(h), torch.sigmoid(self.regress(h))


class SharedLayerNet(nn.Module):
    """One Linear applied twice (shared weights) with a residual in between."""

    def __init__(self, width=8):
        super().__init__()
        self.shared = nn.Linear(width, width)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = torch.tanh(self.shared(x))
        h = torch.tanh(self.shared(h) + x)
        return self.out(h)


class FusedAttentionBlock(nn.Module):
    """timm-style attention: one qkv projection cut with chunk, heads as (batch, heads, tokens, dim), the fused
    F.scaled_dot_product_attention with a boolean causal mask (ones/tril), attention dropout only in training, an
    identity drop path, and a normalisation by the (unbiased) standard deviation."""

    def __init__(self, dim=16, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = nn.Dropout(0.1)
        self.drop_path = nn.Identity()

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.reshape(B, N, self.heads, C // self.heads).transpose(1, 2)
        k = k.reshape(B, N, self.heads, C // self.heads).transpose(1, 2)
        v = v.reshape(B, N, self.heads, C // self.heads).transpose(1, 2)
        allowed = torch.ones(N, N).tril() > 0
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed,
                                           dropout_p=self.attn_drop.p if self.training else 0.0)
        h = h.transpose(1, 2).reshape(B, N, C)
        x = x + self.drop_path(self.proj(h))
        return (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-5)


ZOO = {
    "VGGBN": ["--input-shape", "2,3,8,8"],
    "ResNetBasic": ["--input-shape", "2,3,9,9"],
    "MobileNetV2Tiny": ["--input-shape", "2,3,9,8"],
    "LSTMTextClassifier": ["--input-shape", "2,6"],
    "GRUClassifier": ["--input-shape", "2,5,6"],
    "BiLSTMTagger": ["--input-shape", "2,7"],
    "TransformerEncoderBlock": ["--input-shape", "2,6,16"],
    "ConvTransposeAutoencoder": ["--input-shape", "2,2,8,8"],
    "SignalNet1D": ["--input-shape", "2,2,33"],
    "UNetSmall": ["--input-shape", "2,3,8,8"],
    "TwoHeadNet": ["--input-shape", "2,10"],
    "SharedLayerNet": ["--input-shape", "2,8"],
    "FusedAttentionBlock": ["--input-shape", "2,5,16"],
}
