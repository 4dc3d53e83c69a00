"""Gateways: one module or subpackage per venue kind, each implementing ``engine.TradingGateway``."""
