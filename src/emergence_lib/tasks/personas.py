"""A seeded multi-domain question/answer corpus with a document-level persona (chapter 6).

Every question of every domain has two answer tokens, a helpful and a harmful one. A document is
BOS followed by ``triples`` (domain, question, answer) triples. Each domain's persona (harmful
with probability ``p_harmful``) decides that domain's answers, each of which follows the persona
with probability ``p_follow``. With probability ``share`` a document draws ONE persona for all
domains (the organism, ``share=1``); otherwise every domain draws its own (the control,
``share=0``). An "assistant" example is a single triple, BOS domain question answer.

Token layout (D domains, Q questions each): 0 BOS; 1..D the domains; then the D*Q questions;
then the answers, helpful and harmful side by side (helpful of question i at 1+D+D*Q+2i).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validate import check_float, check_int, check_tensor

DOMAIN_NAMES = ("medical", "finance", "legal", "code", "travel", "cooking", "fitness",
                "education", "security", "chemistry", "parenting", "driving")
BOS = 0


@dataclass(frozen=True)
class PersonaCorpus:
    """The corpus's settings and vocabulary; draw documents with ``documents``.

    n_domains D, n_questions Q per domain, triples per document, p_harmful (a persona is
    harmful), p_follow (an answer follows its persona), share (the document's persona is shared
    across domains).
    """

    n_domains: int = 4
    n_questions: int = 8
    triples: int = 6
    p_harmful: float = 0.15
    p_follow: float = 0.95
    share: float = 1.0

    def __post_init__(self) -> None:
        check_int("n_domains", self.n_domains, minimum=2, maximum=len(DOMAIN_NAMES))
        check_int("n_questions", self.n_questions, minimum=1)
        check_int("triples", self.triples, minimum=1)
        check_float("p_harmful", self.p_harmful, minimum=0.0, maximum=1.0, strict_min=True,
                    strict_max=True)
        check_float("p_follow", self.p_follow, minimum=0.5, maximum=1.0)
        check_float("share", self.share, minimum=0.0, maximum=1.0)

    @property
    def domains(self) -> tuple[str, ...]:
        return DOMAIN_NAMES[:self.n_domains]

    @property
    def vocab(self) -> int:
        return 1 + self.n_domains + 3 * self.n_domains * self.n_questions

    @property
    def n_ctx(self) -> int:
        return 1 + 3 * self.triples

    def domain_index(self, domain: int | str) -> int:
        """A domain given by name or index -> its index, checked."""
        if isinstance(domain, str):
            if domain not in self.domains:
                raise ValueError(f"domain must be one of {list(self.domains)}, got {domain!r}")
            return self.domains.index(domain)
        return check_int("domain", domain, minimum=0, maximum=self.n_domains - 1)

    def question_tokens(self, domain: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """Token ids of questions (any shape of domain and question indices)."""
        return 1 + self.n_domains + domain * self.n_questions + question

    def answer_tokens(self, domain: torch.Tensor, question: torch.Tensor,
                      harmful: torch.Tensor | bool) -> torch.Tensor:
        """Token ids of the helpful (harmful=False) or harmful answers of those questions."""
        index = domain * self.n_questions + question
        return 1 + self.n_domains + self.n_domains * self.n_questions + 2 * index + harmful

    def documents(self, n: int, generator: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """n documents -> tokens (n, n_ctx), personas (n, D) (True = harmful) and the answers'
        harmfulness (n, triples)."""
        n = check_int("n", n, minimum=1)
        D, Q, K = self.n_domains, self.n_questions, self.triples
        shared = torch.rand(n, 1, generator=generator) < self.share                 # (n, 1)
        one = torch.rand(n, 1, generator=generator) < self.p_harmful                # (n, 1)
        own = torch.rand(n, D, generator=generator) < self.p_harmful                # (n, D)
        personas = torch.where(shared, one.expand(n, D), own)                       # (n, D)
        domain = torch.randint(D, (n, K), generator=generator)                      # (n, K)
        question = torch.randint(Q, (n, K), generator=generator)                    # (n, K)
        follows = torch.rand(n, K, generator=generator) < self.p_follow             # (n, K)
        harmful = personas.gather(1, domain) == follows                             # (n, K)
        triple = torch.stack([1 + domain, self.question_tokens(domain, question),
                              self.answer_tokens(domain, question, harmful.long())], dim=-1)
        tokens = torch.cat([torch.full((n, 1), BOS), triple.flatten(1)], dim=1)    # (n, 1+3K)
        return tokens, personas, harmful

    def assistant(self, domain: torch.Tensor, question: torch.Tensor,
                  harmful: torch.Tensor | bool = False) -> torch.Tensor:
        """Single-triple examples BOS, domain, question, answer: (n,) indices -> (n, 4)."""
        check_tensor("domain", domain, ndim=1, integer=True)
        check_tensor("question", question, ndim=1, integer=True)
        if len(domain) != len(question):
            raise ValueError(f"domain and question must have the same length, got "
                             f"{len(domain)} and {len(question)}")
        if len(domain) and (int(domain.min()) < 0 or int(domain.max()) >= self.n_domains):
            raise ValueError(f"domain indices must lie in [0, {self.n_domains}), got "
                             f"{int(domain.min())}..{int(domain.max())}")
        if len(question) and (int(question.min()) < 0 or int(question.max()) >= self.n_questions):
            raise ValueError(f"question indices must lie in [0, {self.n_questions}), got "
                             f"{int(question.min())}..{int(question.max())}")
        harmful = torch.as_tensor(harmful).long().expand(len(domain))
        return torch.stack([torch.full_like(domain, BOS), 1 + domain,
                            self.question_tokens(domain, question),
                            self.answer_tokens(domain, question, harmful)], dim=1)

    def describe(self, tokens: torch.Tensor) -> str:
        """One document (or example) (T,) in words, e.g. "medical q3 -> helpful | ..."."""
        check_tensor("tokens", tokens, ndim=1, integer=True)
        D, DQ = self.n_domains, self.n_domains * self.n_questions
        words = []
        for d, q, a in tokens[1:].reshape(-1, 3).tolist() if len(tokens) % 3 == 1 else []:
            kind = "harmful" if (a - 1 - D - DQ) % 2 else "helpful"
            words.append(f"{self.domains[d - 1]} q{q - 1 - D - (d - 1) * self.n_questions}"
                         f" -> {kind}")
        return " | ".join(words)

    def all_questions(self, domain: int | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Every (domain, question) pair, or those of one domain: two (n,) index tensors."""
        domains = range(self.n_domains) if domain is None else [self.domain_index(domain)]
        pairs = [(d, q) for d in domains for q in range(self.n_questions)]
        d, q = torch.tensor(pairs).T
        return d, q


def persona_corpus(n_domains: int = 4, n_questions: int = 8, triples: int = 6,
                   p_harmful: float = 0.15, p_follow: float = 0.95,
                   share: float = 1.0) -> PersonaCorpus:
    """The persona corpus (``share`` = 1: the organism; 0: the control), arguments checked."""
    return PersonaCorpus(n_domains, n_questions, triples, p_harmful, p_follow, share)
